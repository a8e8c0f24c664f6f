"""What an event says to the outside: the webhook body, built from the audit row.

    {"type": "post.published", "id": "evt_42", "timestamp": "…Z",
     "workspace": {"id": 1, "slug": "acme"},
     "data": {"post": {...}, "job": {...}, "account": {...}, "details": {...}}}

The subject's present rows fill in what an integrator needs (a post's jobs and
their links); `status` is what the event reported, not what came after.
"""

from __future__ import annotations

from accounts.models import AuditEvent, SocialAccount
from posts.models import Post
from publishing.models import PublishJob


def event_payload(*, event: AuditEvent, event_type: str) -> dict:
    data: dict = {}
    model = event.subject_type.model_class()
    if model is Post:
        post = Post.objects.filter(pk=event.subject_id).first()
        data["post"] = _post(post, status=event.to_status) if post else {"id": event.subject_id}
    elif model is PublishJob:
        job = PublishJob.objects.select_related("post", "account").filter(pk=event.subject_id)
        job = job.first()
        if job is not None:
            data["job"] = _job(job, status=event.to_status or job.status)
            data["post"] = _post(job.post, status=job.post.status)
            data["account"] = _account(job.account)
    elif model is SocialAccount:
        account = SocialAccount.objects.filter(pk=event.subject_id).first()
        if account is not None:
            data["account"] = _account(account)
    if event.message:
        data["message"] = event.message
    if event.data:
        data["details"] = event.data
    return {
        "type": event_type,
        "id": f"evt_{event.pk}",
        "timestamp": event.created_at.isoformat().replace("+00:00", "Z"),
        "workspace": {"id": event.workspace_id, "slug": event.workspace.slug},
        "data": data,
    }


def _post(post: Post, *, status: str) -> dict:
    latest = post.jobs.order_by("-occurrence_at").values_list("occurrence_at", flat=True)[:1]
    jobs = post.jobs.filter(occurrence_at__in=list(latest)).select_related("account")
    return {
        "id": post.pk,
        "status": status or post.status,
        "jobs": [_job(job, status=job.status) | {"account": _account(job.account)} for job in jobs],
    }


def _job(job: PublishJob, *, status: str) -> dict:
    return {
        "id": job.pk,
        "post_id": job.post_id,
        "account_id": job.account_id,
        "status": status,
        "occurrence_at": job.occurrence_at.isoformat(),
        "url": job.external_url or None,
        "external_id": job.external_id or None,
        "published_at": job.published_at.isoformat() if job.published_at else None,
        "error": job.error_message or None,
    }


def _account(account: SocialAccount) -> dict:
    return {
        "id": account.pk,
        "network": account.network,
        "handle": account.handle,
        "status": account.status,
    }
