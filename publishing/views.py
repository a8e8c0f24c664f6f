import hmac
from datetime import datetime

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from prometheus_client import CONTENT_TYPE_LATEST

from accounts.models import SocialAccount
from accounts.permissions import POST_SCHEDULE, WORKSPACE_VIEW, member_may, workspaces_where
from accounts.timezones import (
    utc_to_wall,
    wall_to_utc,
    zone_canonical_name,
    zone_choices,
    zone_get,
)
from posts.models import Campaign, Post, Tag
from publishing.calendar import STATUSES as CALENDAR_STATUSES
from publishing.calendar import CalendarEntry, CalendarFilters, calendar_page
from publishing.health import health_checks, info_read
from publishing.metrics import metrics_exposition
from publishing.models import SandboxPost
from publishing.plans import post_occurrence_reschedule
from scheduling.selectors import schedule_zones_most_used


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


def _bearer_of_metrics_token(request: HttpRequest) -> bool:
    """Whether the request carries KAIROS_METRICS_TOKEN (never, while it is not set)."""
    token = settings.KAIROS_METRICS_TOKEN
    sent = request.headers.get("Authorization", "").encode()
    return bool(token) and hmac.compare_digest(sent, f"Bearer {token}".encode())


@never_cache
def info(request: HttpRequest) -> JsonResponse:
    """What runs here and how much it holds, for the operator: a superuser signed in, or
    a caller with the metrics token. Not for anyone: the version and commit tell what
    to attack, the counts how the business goes."""
    if not (request.user.is_superuser or _bearer_of_metrics_token(request)):
        return JsonResponse(
            {
                "detail": "Sign in to the admin as a superuser, or send the metrics token "
                "(Authorization: Bearer <KAIROS_METRICS_TOKEN>)."
            },
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="info"'},
        )
    return JsonResponse(info_read())


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics, for a scraper with the bearer token; without a token configured
    there is nothing here."""
    if not settings.KAIROS_METRICS_TOKEN:
        raise Http404("Metrics are off: set KAIROS_METRICS_TOKEN.")
    if not _bearer_of_metrics_token(request):
        return HttpResponse(status=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    return HttpResponse(metrics_exposition(now=timezone.now()), content_type=CONTENT_TYPE_LATEST)


# --- The calendar (an admin page: templates/admin/calendar.html) ----------------------


class CalendarForm(forms.Form):
    """The viewer's zone and filters, on the page and in the feed's query string."""

    zone = forms.ChoiceField(required=False, label="Time zone")
    account = forms.TypedMultipleChoiceField(required=False, coerce=int, label="Accounts")
    network = forms.MultipleChoiceField(
        required=False, choices=SocialAccount.Network.choices, label="Networks"
    )
    tag = forms.TypedMultipleChoiceField(required=False, coerce=int, label="Tags")
    campaign = forms.TypedMultipleChoiceField(required=False, coerce=int, label="Campaigns")
    status = forms.MultipleChoiceField(
        required=False,
        choices=[(status, status.replace("_", " ").capitalize()) for status in CALENDAR_STATUSES],
        label="Status",
    )

    def __init__(self, *args, workspaces, zones_ranked: bool = True, **kwargs):
        """`zones_ranked`: offer the workspaces' most used zones first (a count over all
        their schedules, for the page's menu; the feed only checks the zone asked)."""
        super().__init__(*args, **kwargs)
        self.fields["zone"].choices = zone_choices(
            most_used=schedule_zones_most_used(workspaces=workspaces) if zones_ranked else ()
        )
        accounts = SocialAccount.objects.filter(workspace__in=workspaces).order_by(
            "network", "handle"
        )
        self.fields["account"].choices = [(account.pk, str(account)) for account in accounts]
        self.fields["tag"].choices = list(
            Tag.objects.filter(workspace__in=workspaces).values_list("pk", "name")
        )
        self.fields["campaign"].choices = list(
            Campaign.objects.filter(workspace__in=workspaces).values_list("pk", "name")
        )

    def filters(self) -> CalendarFilters:
        data = self.cleaned_data
        return CalendarFilters(
            account_ids=frozenset(data["account"]),
            networks=frozenset(data["network"]),
            tag_ids=frozenset(data["tag"]),
            campaign_ids=frozenset(data["campaign"]),
            statuses=frozenset(data["status"]),
        )


def _viewer_zone(request: HttpRequest, workspaces) -> str:
    """The zone asked for, else the first workspace's."""
    asked = request.GET.get("zone", "")
    if asked:
        return asked
    first = workspaces.order_by("name").values_list("default_timezone", flat=True).first()
    return first or "UTC"


def calendar(request: HttpRequest) -> HttpResponse:
    """Month and week views of every post planned or made, over `calendar_feed`."""
    workspaces = workspaces_where(user=request.user, action=WORKSPACE_VIEW)
    if not workspaces.exists():
        raise PermissionDenied
    zone = _viewer_zone(request, workspaces)
    asked = {key: request.GET.getlist(key) for key in request.GET}
    context = {
        **admin.site.each_context(request),
        "title": "Calendar",
        "form": CalendarForm({**asked, "zone": zone}, workspaces=workspaces),
        "zone": zone,
        "add_url": reverse("admin:posts_post_add"),
    }
    return render(request, "admin/calendar.html", context)


@never_cache
def calendar_feed(request: HttpRequest) -> JsonResponse:
    """The entries between `start` and `end` (wall times in `zone`) and the days over a
    limit, as FullCalendar events: entries at wall times of the viewer's zone, marks as
    all-day background events."""
    workspaces = workspaces_where(user=request.user, action=WORKSPACE_VIEW)
    form = CalendarForm(request.GET, workspaces=workspaces, zones_ranked=False)
    if not form.is_valid():
        return JsonResponse({"error": form.errors.get_json_data()}, status=400)
    zone = zone_get(form.cleaned_data["zone"] or _viewer_zone(request, workspaces))
    try:
        start = wall_to_utc(_wall(request.GET.get("start", "")), zone)
        end = wall_to_utc(_wall(request.GET.get("end", "")), zone)
        page = calendar_page(
            workspaces=workspaces, start=start, end=end, zone=zone, filters=form.filters()
        )
    except ValidationError as refusal:
        return JsonResponse({"error": " ".join(refusal.messages)}, status=400)
    may_schedule = set(
        workspaces_where(user=request.user, action=POST_SCHEDULE).values_list("pk", flat=True)
    )
    # One reverse() for all the entries' links (a month holds hundreds).
    post_url = reverse("admin:posts_post_change", args=[0]).replace("/0/", "/{}/")
    events = [
        _event(entry, zone=zone, editable=entry.workspace_id in may_schedule, post_url=post_url)
        for entry in page.entries
    ]
    events += [
        {
            "start": mark.day.isoformat(),
            "allDay": True,
            "display": "background",
            "title": mark.label,
            "classNames": ["kairos-limit"],
            "extendedProps": {"reason": mark.reason, "limit": True},
        }
        for mark in page.marks
    ]
    return JsonResponse({"events": events, "truncated": page.truncated})


def _wall(value: str) -> datetime:
    """A wall time FullCalendar sent: ISO, in the viewer's zone (any offset is dropped:
    the calendar runs in UTC-coerced wall times)."""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        raise ValidationError(f"“{value}” is not an ISO date and time.") from None


def _event(entry: CalendarEntry, *, zone, editable: bool, post_url: str) -> dict:
    own_zone = zone_get(entry.post_zone) if entry.post_zone else zone
    own = utc_to_wall(entry.at, own_zone)
    return {
        "id": f"{entry.post_id}-{entry.account_id}-{entry.occurrence_at.isoformat()}",
        "title": f"{entry.handle} · {entry.title}",
        "start": utc_to_wall(entry.at, zone).replace(tzinfo=None).isoformat(),
        "url": post_url.format(entry.post_id),
        "editable": editable,
        "classNames": [f"kairos-status-{entry.status}"],
        "extendedProps": {
            "post": entry.post_id,
            "account": entry.account_label,
            "status": entry.status,
            "occurrence": entry.occurrence_at.isoformat(),
            "recurring": entry.recurring,
            "own_time": f"{own:%Y-%m-%d %H:%M} {own_zone.key}",
        },
    }


@require_POST
def calendar_move(request: HttpRequest) -> JsonResponse:
    """A drag on the calendar: the occurrence to the wall time `start` in `zone`."""
    visible = workspaces_where(user=request.user, action=WORKSPACE_VIEW)
    post = Post.objects.alive().filter(workspace__in=visible, pk=request.POST.get("post")).first()
    if post is None:
        return JsonResponse({"error": "No such post."}, status=404)
    if not member_may(user=request.user, workspace=post.workspace_id, action=POST_SCHEDULE):
        return JsonResponse({"error": "Your role may not reschedule posts here."}, status=403)
    try:
        zone = zone_get(zone_canonical_name(request.POST.get("zone", "")))
        to = wall_to_utc(_wall(request.POST.get("start", "")), zone)
        occurrence_at = datetime.fromisoformat(request.POST.get("occurrence", ""))
        if occurrence_at.tzinfo is None:
            raise ValidationError("The occurrence is an instant with its offset.")
        schedule = post_occurrence_reschedule(
            post=post, occurrence_at=occurrence_at, to=to, actor=request.user
        )
    except (ValidationError, ValueError) as refusal:
        messages = refusal.messages if isinstance(refusal, ValidationError) else [str(refusal)]
        return JsonResponse({"error": " ".join(messages)}, status=400)
    own = utc_to_wall(to, schedule.zone)
    return JsonResponse(
        {"message": f"Post #{post.pk} moved to {own:%Y-%m-%d %H:%M} {schedule.timezone}."}
    )
