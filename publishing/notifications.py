"""Notifications: telling members, by role, what needs a person.

Made from the audit trail's events by the fan-out (publishing/events.py), a task
after commit: nothing here runs in the publish path. Who hears of what:

    kind                      who                         grouped by
    job.needs_review          may publish (editors up)    account
    job.missed                may publish                 account
    post.failed               may publish                 account of each failed job
    account.needs_reauth      may manage accounts         account
    account.billing_problem   may manage accounts         account
    post.review_requested     may approve (not the asker) post
    post.approved             the post's author           post
    post.changes_requested    the post's author           post
    webhook.disabled          may manage the workspace    endpoint

A burst is one notification: while a member has not read the notification of a
(kind, group), a new event of it raises its count instead of making another
(the unique constraint on open notifications keeps it so under concurrency).
E-mail goes once per notification, when it is made, to members who want it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.urls import reverse

from accounts.events import EVENT_TYPES, NOTICE_ONLY
from accounts.models import (
    AuditEvent,
    Membership,
    Notification,
    NotificationPreference,
    SocialAccount,
    WebhookEndpoint,
)
from accounts.permissions import (
    ACCOUNT_MANAGE,
    POST_APPROVE,
    POST_PUBLISH,
    WORKSPACE_MANAGE,
    roles_allowed,
)
from posts.models import Post
from publishing.models import JobStatus, PublishJob

logger = logging.getLogger(__name__)

AUTHOR = "author"


@dataclass(frozen=True)
class Rule:
    audience: str  # an action of accounts/permissions.py, or AUTHOR
    title: str  # formatted with the subject's words


RULES: dict[str, Rule] = {
    "job.needs_review": Rule(POST_PUBLISH, "A job on {account} needs review"),
    "job.missed": Rule(POST_PUBLISH, "A post on {account} was missed"),
    "post.failed": Rule(POST_PUBLISH, "A post failed on {account}"),
    "account.needs_reauth": Rule(ACCOUNT_MANAGE, "{account} needs to be reconnected"),
    "account.billing_problem": Rule(ACCOUNT_MANAGE, "{account} has a billing problem"),
    "post.review_requested": Rule(POST_APPROVE, "Post {post} waits for your approval"),
    "post.approved": Rule(AUTHOR, "Post {post} was approved"),
    "post.changes_requested": Rule(AUTHOR, "Changes were requested on post {post}"),
    "webhook.disabled": Rule(WORKSPACE_MANAGE, "Webhook {endpoint} was disabled"),
}
KINDS = {kind: (EVENT_TYPES | NOTICE_ONLY)[kind] for kind in RULES}


@dataclass(frozen=True)
class About:
    """What one event is about, for a notification: its group, words and page."""

    group_key: str
    words: dict[str, str]
    link: str


def notifications_make(*, events: Sequence[tuple[AuditEvent, str]], now: datetime) -> list[int]:
    """Notify the members each event concerns; return the ids of notifications made
    new (a burst's first), which the caller e-mails after commit."""
    made = []
    for event, kind in events:
        rule = RULES.get(kind)
        if rule is None:
            continue
        for about in _about(event=event, kind=kind):
            title = rule.title.format(**about.words)
            for user_id in _recipients(event=event, rule=rule):
                notification_id = _notification_add(
                    user_id=user_id, event=event, kind=kind, about=about, title=title, now=now
                )
                if notification_id is not None:
                    made.append(notification_id)
    return made


def _recipients(*, event: AuditEvent, rule: Rule) -> set[int]:
    if rule.audience == AUTHOR:
        author = Post.objects.filter(pk=event.subject_id).values_list("author_id", flat=True)
        return {user_id for user_id in author if user_id is not None}
    members = set(
        Membership.objects.filter(
            workspace_id=event.workspace_id,
            role__in=roles_allowed(rule.audience),
            user__is_active=True,
        ).values_list("user_id", flat=True)
    )
    # Whoever asked needs no telling; Kairos's own changes (actor empty) tell everyone.
    return members - {event.actor_id}


def _about(*, event: AuditEvent, kind: str) -> list[About]:
    """What the event is about; nothing when its subject is gone meanwhile (deleted):
    there is nothing left to look at, and the fan-out goes on with the other events."""
    model = event.subject_type.model_class()
    subject = model._default_manager.filter(pk=event.subject_id).first()
    if subject is None:
        return []
    if model is PublishJob:
        return [_about_account(subject.account, link=_admin_url(subject))]
    if model is SocialAccount:
        return [_about_account(subject)]
    if model is WebhookEndpoint:
        return [About(f"webhook:{subject.pk}", {"endpoint": subject.url}, _admin_url(subject))]
    post = subject
    if kind == "post.failed":
        failed = (
            PublishJob.objects.filter(post=post, status=JobStatus.FAILED)
            .select_related("account")
            .order_by("-occurrence_at")
        )
        accounts = {job.account_id: job.account for job in failed}
        return [_about_account(account, link=_admin_url(post)) for account in accounts.values()]
    return [About(f"post:{post.pk}", {"post": f"#{post.pk}"}, _admin_url(post))]


def _about_account(account: SocialAccount, *, link: str | None = None) -> About:
    words = {"account": f"@{account.handle} ({account.get_network_display()})"}
    return About(f"account:{account.pk}", words, link or _admin_url(account))


def _admin_url(obj) -> str:
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])


def _notification_add(
    *, user_id: int, event: AuditEvent, kind: str, about: About, title: str, now: datetime
) -> int | None:
    """Add to the member's open notification of this burst, or start one; return the
    id of one started, None when added to."""
    open_one = Notification.objects.filter(
        recipient_id=user_id, kind=kind, group_key=about.group_key, read_at=None
    )
    if open_one.update(count=F("count") + 1, updated_at=now, event=event, link=about.link):
        return None
    try:
        with transaction.atomic():
            return Notification.objects.create(
                recipient_id=user_id,
                workspace_id=event.workspace_id,
                kind=kind,
                group_key=about.group_key,
                title=title,
                link=about.link,
                event=event,
                updated_at=now,
            ).pk
    except IntegrityError:
        # Another fan-out started this burst a moment ago: add to it.
        open_one.update(count=F("count") + 1, updated_at=now, event=event, link=about.link)
        return None


def notifications_email(notification_ids: Iterable[int]) -> int:
    """E-mail each new notification to its member, if they want it by e-mail; return
    how many went. A failing mail server is logged: the notification stays in the admin."""
    sent = 0
    for notification in Notification.objects.filter(pk__in=list(notification_ids)).select_related(
        "recipient"
    ):
        user = notification.recipient
        if not user.email or not _wants(user_id=user.pk, kind=notification.kind, by="by_email"):
            continue
        try:
            send_mail(
                subject=f"[Kairos] {notification.title}",
                message=f"{notification.title}.\n\n{settings.KAIROS_PUBLIC_URL}"
                f"{notification.link}\n\nChoose what you are told of under Notification "
                "preferences in the admin.",
                from_email=None,
                recipient_list=[user.email],
            )
            sent += 1
        except OSError:
            logger.warning("notification %s not e-mailed", notification.pk, exc_info=True)
    return sent


def _wants(*, user_id: int, kind: str, by: str) -> bool:
    choice = NotificationPreference.objects.filter(user_id=user_id, kind=kind).values_list(
        by, flat=True
    )
    return next(iter(choice), True)


def notifications_for(*, user) -> QuerySet[Notification]:
    """The member's notifications in the admin: every kind they did not switch off there."""
    switched_off = NotificationPreference.objects.filter(user=user, in_admin=False).values("kind")
    return Notification.objects.filter(recipient=user).exclude(kind__in=switched_off)


def notifications_unread_count(*, user) -> int:
    return notifications_for(user=user).filter(read_at=None).count()


def notifications_mark_read(*, user, notification_ids: Iterable[int] | None, now) -> int:
    """Mark the member's own notifications read (all unread ones when ids is None)."""
    unread = Notification.objects.filter(recipient=user, read_at=None)
    if notification_ids is not None:
        unread = unread.filter(pk__in=list(notification_ids))
    return unread.update(read_at=now)


def notification_preferences_set(
    *, user, kind: str, in_admin: bool, by_email: bool
) -> NotificationPreference:
    if kind not in RULES:
        raise ValueError(f"Unknown notification kind {kind!r}; the kinds are {sorted(RULES)}.")
    preference, _ = NotificationPreference.objects.update_or_create(
        user=user, kind=kind, defaults={"in_admin": in_admin, "by_email": by_email}
    )
    return preference
