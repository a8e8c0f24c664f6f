import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST

from publishing.health import health_checks, info_read
from publishing.metrics import metrics_exposition
from publishing.models import SandboxPost


def sandbox_post(request: HttpRequest, handle: str, post_id: int) -> HttpResponse:
    """A sandbox post as it went out, with the thread it belongs to."""
    post = (
        SandboxPost.objects.select_related("account", "in_reply_to")
        .filter(pk=post_id, account__handle=handle)
        .first()
    )
    if post is None:
        raise Http404("No such sandbox post.")
    thread = [post]
    while thread[0].in_reply_to is not None:
        thread.insert(0, thread[0].in_reply_to)
    while (reply := thread[-1].replies.order_by("pk").first()) is not None:
        thread.append(reply)
    return render(request, "sandbox/post.html", {"post": post, "thread": thread})


@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. It asks nothing of the database, so an outage
    elsewhere never gets a healthy web process restarted."""
    return JsonResponse({"status": "ok"})


@never_cache
def ready(request: HttpRequest) -> JsonResponse:
    """Readiness of Kairos as a whole: 200 when it can publish on time, 503 otherwise."""
    checks = health_checks(now=timezone.now())
    ok = all(check.ok for check in checks)
    return JsonResponse(
        {
            "status": "ok" if ok else "failing",
            "checks": {check.name: check.as_json() for check in checks},
        },
        status=200 if ok else 503,
    )


@never_cache
def info(request: HttpRequest) -> JsonResponse:
    return JsonResponse(info_read())


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics, for a scraper with the bearer token; without a token configured
    there is nothing here."""
    token = settings.KAIROS_METRICS_TOKEN
    if not token:
        raise Http404("Metrics are off: set KAIROS_METRICS_TOKEN.")
    sent = request.headers.get("Authorization", "").encode()
    if not hmac.compare_digest(sent, f"Bearer {token}".encode()):
        return HttpResponse(status=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    return HttpResponse(metrics_exposition(now=timezone.now()), content_type=CONTENT_TYPE_LATEST)
