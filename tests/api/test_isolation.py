"""Workspaces are sealed from each other on every endpoint of /api/v1/, found by walking
the URL resolver, so that a new endpoint cannot slip past.

For each route, a key and a signed-in owner of workspace B ask for workspace A's row:
"not found" (404) on every method, never "forbidden" or data; lists leave A's rows out;
bodies of B's that name A's account, post, tag, campaign, media or workspace are refused
naming the field, and nothing is stored. A key with only `read` gets 403 on every write.

A route this file does not know fails with its name: add one line to A_ROW (and, for an
endpoint that creates or updates, to POINTING_AT). A refusal that does not depend on the
row (a route closed to keys) is allowed where the caller gets the same on its own row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, time
from operator import attrgetter

import pytest
from django.apps import apps
from django.db.models import Model
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from accounts.keys import api_key_create
from accounts.models import AuditEvent, Membership, Workspace, WorkspaceApiKey
from analytics.models import MetricsSnapshot
from posts.media import media_asset_create
from posts.models import Campaign
from posts.services import tag_create
from publishing.events import events_fan_out
from publishing.execution import jobs_execute
from publishing.models import JobStatus
from publishing.slots import slot_create
from publishing.webhooks import webhook_endpoint_create
from scheduling.limits import posting_limit_create
from tests.api.conftest import key_client
from tests.api.test_resources import weekly
from tests.factories import MembershipFactory, PublishJobFactory
from tests.media_files import image_upload

pytestmark = pytest.mark.django_db

API = "api/v1/"
WRITES = ("post", "put", "patch", "delete")
OUR_APPS = ("accounts", "posts", "scheduling", "publishing", "analytics")


@dataclass
class Rows:
    """One workspace's rows, one of each kind an endpoint of /api/v1/ names."""

    workspace: Workspace
    account: Model
    post: Model  # scheduled weekly (test_resources.weekly), tagged, in the campaign
    schedule: Model
    job: Model  # published, so that its analytics exist
    attempt: Model
    media: Model
    tag: Model
    campaign: Model
    event: Model
    webhook: Model
    delivery: Model
    owner: Model  # a person, for services that need an actor
    # A_ROW's rows, one per route, made with the others (before anything is counted).
    of: dict[str, Model | None] = field(default_factory=dict)


def rows_of_new_workspace() -> Rows:
    owner = MembershipFactory()
    workspace = owner.workspace
    schedule = weekly(workspace)
    post = schedule.post
    account = post.targets.get().account
    tag = tag_create(workspace=workspace, name="launch", actor=None)
    post.tags.add(tag)
    post.campaign = Campaign.objects.create(
        workspace=workspace, name="Spring", starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 31)
    )
    post.save(update_fields=["campaign"])
    webhook = webhook_endpoint_create(
        workspace=workspace, url="https://hooks.example.com/kairos", events=[], actor=None
    ).endpoint
    job = PublishJobFactory(post__workspace=workspace, account=account, status=JobStatus.QUEUED)
    assert jobs_execute(job_ids=[job.pk]) == {job.pk: JobStatus.PUBLISHED}
    events_fan_out()
    rows = Rows(
        workspace=workspace,
        account=account,
        post=post,
        schedule=schedule,
        job=job,
        attempt=job.attempts.get(),
        media=media_asset_create(workspace=workspace, file=image_upload(), actor=None),
        tag=tag,
        campaign=post.campaign,
        event=AuditEvent.objects.filter(workspace=workspace).first(),
        webhook=webhook,
        delivery=webhook.deliveries.first(),
        owner=owner.user,
    )
    rows.of = {key: make and make(rows) for key, make in A_ROW.items()}
    return rows


# Router basename, or the name of an explicit path → the row its URL names (None: its
# URL names none), taken from Rows or made from them. A new endpoint is one line here.
A_ROW: dict[str, Callable[[Rows], Model] | None] = {
    "api-root": None,
    "account": attrgetter("account"),
    "post": attrgetter("post"),
    "schedule": attrgetter("schedule"),
    "job": attrgetter("job"),
    "attempt": attrgetter("attempt"),
    "media": attrgetter("media"),
    "tag": attrgetter("tag"),
    "campaign": attrgetter("campaign"),
    "audit": attrgetter("event"),
    "webhook": attrgetter("webhook"),
    "webhook-delivery": attrgetter("delivery"),
    "account-slots": attrgetter("account"),
    "job-post": attrgetter("job"),
    "analytics-account": attrgetter("account"),
    "analytics-post": attrgetter("job"),
    "analytics-campaign": attrgetter("campaign"),
    "analytics-tag": attrgetter("tag"),
    "analytics-workspace": attrgetter("workspace"),
    "queue-slot": lambda rows: slot_create(
        account=rows.account, weekday=1, local_time=time(9), actor=None
    ),
    "posting-limit": lambda rows: posting_limit_create(
        account=rows.account, actor=rows.owner, max_per_day=5
    ),
    "metrics-snapshot": lambda rows: MetricsSnapshot.objects.create(
        job=rows.job, due_at=rows.post.created_at, collected_at=rows.post.created_at, likes=3
    ),
    "api-key": lambda rows: api_key_create(
        workspace=rows.workspace, name="listed", scopes=["read"], actor=rows.owner
    )[0],
    "x-connect": None,
    "bluesky-connect": None,
    "mastodon-connect": None,
    "facebook-connect": None,
    "instagram-connect": None,
    "linkedin-connect": None,
}


def post_bodies(target: Rows, own: Rows) -> list[tuple[dict, str]]:
    """A post of `own`'s naming, field by field, one row of `target`."""

    def post(**changes) -> dict:
        body = {
            "parts": [{"text": "Ours", "media": [own.media.pk]}],
            "targets": [{"account": own.account.pk}],
            "tags": [own.tag.pk],
            "campaign": own.campaign.pk,
        }
        return body | changes

    return [
        (post(targets=[{"account": target.account.pk}]), "targets"),
        (post(parts=[{"text": "Theirs", "media": [target.media.pk]}]), "parts"),
        (post(tags=[target.tag.pk]), "tags"),
        (post(campaign=target.campaign.pk), "campaign"),
    ]


def naming_workspace(**more) -> Callable[[Rows, Rows], list[tuple[dict, str]]]:
    """A body naming `target`'s workspace, with `more`."""
    return lambda target, own: [({"workspace": target.workspace.pk, **more}, "workspace")]


# Route name → the bodies, for the route's create or update, that name one of
# `target`'s rows, each with the field a refusal must name. Called with (A, B) they are
# B's attempts at A's rows; with (A, A), requests A's writers may make.
NEXT_MONDAY_NINE = {"local_date": "2031-01-06", "local_time": "09:00"}


def slot_bodies(target: Rows, own: Rows) -> list[tuple[dict, str]]:
    return [({"account": target.account.pk, "weekday": 2, "local_time": "10:00"}, "account")]


def limit_bodies(target: Rows, own: Rows) -> list[tuple[dict, str]]:
    return [({"account": target.account.pk, "max_per_day": 3}, "account")]


POINTING_AT: dict[str, Callable[[Rows, Rows], list[tuple[dict, str]]]] = {
    "post-list": lambda target, own: [
        *post_bodies(target, own),
        ({"workspace": target.workspace.pk, "parts": [{"text": "Ours"}]}, "workspace"),
    ],
    "post-detail": post_bodies,
    "media-list": lambda target, own: [
        ({"file": image_upload(), "workspace": target.workspace.pk}, "workspace")
    ],
    "tag-list": naming_workspace(name="theirs"),
    "tag-detail": naming_workspace(name="renamed"),
    "schedule-list": lambda target, own: [
        ({"post": target.post.pk, "kind": "once", **NEXT_MONDAY_NINE}, "post")
    ],
    "schedule-detail": lambda target, own: [],
    "campaign-list": naming_workspace(name="C", starts_on="2031-01-01", ends_on="2031-01-02"),
    "campaign-detail": naming_workspace(name="C", starts_on="2031-01-01", ends_on="2031-01-02"),
    "queue-slot-list": slot_bodies,
    "queue-slot-detail": slot_bodies,
    "posting-limit-list": limit_bodies,
    "posting-limit-detail": limit_bodies,
    "api-key-list": naming_workspace(name="theirs", scopes=["read"]),
    "webhook-list": naming_workspace(url="https://hooks.example.com/b"),
    "x-connect": naming_workspace(),
    "facebook-connect": naming_workspace(),
    "instagram-connect": naming_workspace(),
    "linkedin-connect": naming_workspace(),
    "mastodon-connect": naming_workspace(instance="mastodon.example"),
    "bluesky-connect": naming_workspace(identifier="b.example", app_password="abcd-efgh"),
}
MULTIPART = {"media-list"}


@dataclass(frozen=True)
class Route:
    name: str
    pattern: URLPattern
    # Router routes: the viewset's basename and its method → action; explicit paths: "".
    basename: str
    actions: dict[str, str]
    # The row's attribute its URL names (a viewset's lookup_field), and its answer's key.
    lookup: str = "pk"

    @property
    def table_key(self) -> str:
        return self.basename or self.name

    @property
    def methods(self) -> list[str]:
        if self.actions:
            return list(self.actions)
        view = self.pattern.callback.view_class
        return [
            m for m in view.http_method_names if m not in ("options", "head") and hasattr(view, m)
        ]

    @property
    def kwarg(self) -> str | None:
        names = list(self.pattern.pattern.regex.groupindex)
        return names[0] if names else None

    @property
    def answer_key(self) -> str:
        return "id" if self.lookup == "pk" else self.lookup

    def url(self, row: Model | None) -> str:
        kwargs = {self.kwarg: getattr(row, self.lookup)} if self.kwarg else None
        return reverse(self.name, kwargs=kwargs)

    def row(self, rows: Rows) -> Model | None:
        return rows.of[self.table_key]

    def changes_rows(self, method: str) -> bool:
        """Whether `method` creates or updates a row from a body (POINTING_AT covers it)."""
        if self.actions:
            return self.actions.get(method) in ("create", "update", "partial_update")
        return method in ("post", "put", "patch") and self.kwarg is None


def _walk(patterns, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), entry


def api_routes() -> list[Route]:
    routes = {}
    for path, pattern in _walk(get_resolver().url_patterns):
        # The router's `.json` twins answer as their route does.
        if not path.startswith(API) or "format" in pattern.pattern.regex.groupindex:
            continue
        callback = pattern.callback
        initkwargs = getattr(callback, "initkwargs", {})
        routes[pattern.name] = Route(
            name=pattern.name,
            pattern=pattern,
            basename=initkwargs.get("basename", ""),
            actions=dict(getattr(callback, "actions", None) or {}),
            lookup=getattr(getattr(callback, "cls", None), "lookup_field", "pk"),
        )
    return list(routes.values())


ROUTES = api_routes()


def test_every_route_of_the_api_is_covered():
    unknown = [route.name for route in ROUTES if route.table_key not in A_ROW]
    assert not unknown, f"Add these routes to A_ROW in {__file__}: {unknown}"
    uncovered = [
        f"{route.name} ({method.upper()})"
        for route in ROUTES
        for method in route.methods
        if route.changes_rows(method) and route.name not in POINTING_AT
    ]
    assert not uncovered, f"Add these creates and updates to POINTING_AT: {uncovered}"
    assert len(ROUTES) > 20  # The walk found the API.


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return rows_of_new_workspace(), rows_of_new_workspace()


def callers_of(rows: Rows) -> dict[str, APIClient]:
    """A key with every scope, and an owner signed in with a session."""
    person = APIClient()
    person.force_login(rows.owner)
    return {"key": key_client(rows.workspace, *WorkspaceApiKey.Scope.values), "person": person}


def call(client: APIClient, method: str, url: str, body: dict | None = None, *, multipart=False):
    return getattr(client, method)(url, body or {}, format="multipart" if multipart else "json")


def stored() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in OUR_APPS
    }


def fields_of(row: Model) -> dict:
    fresh = type(row).objects.get(pk=row.pk)
    return {f.attname: getattr(fresh, f.attname) for f in fresh._meta.concrete_fields}


def listed(answer, route: Route) -> set:
    body = answer.json()
    items = body["results"] if isinstance(body, dict) else body
    return {item[route.answer_key] for item in items}


def refused_whatever_the_row(answer, caller, method: str, route: Route, own, body=None) -> bool:
    """Whether a 403 is one the caller gets on its own workspace's row too: a route closed
    to it (keys, for a browser sign-in), which says nothing of the row asked for."""
    if answer.status_code != 403:
        return False
    on_own = call(caller, method, route.url(own), body, multipart=route.name in MULTIPART)
    return (on_own.status_code, on_own.json()) == (403, answer.json())


def test_b_finds_none_of_a_s_rows_on_any_route(world):
    a, b = world
    a_person, b_callers = callers_of(a)["person"], callers_of(b)
    before = stored()
    a_fields = {route.name: fields_of(route.row(a)) for route in ROUTES if route.row(a)}
    checked, lists_read = 0, set()
    for who, caller in b_callers.items():
        for route in ROUTES:
            theirs, mine = route.row(a), route.row(b)
            for method in route.methods:
                if route.actions.get(method) == "list":
                    answer = caller.get(route.url(None))
                    where = (who, route.name, answer.content)
                    if answer.status_code == 403:  # Closed to this caller: nothing listed.
                        continue
                    assert answer.status_code == 200, where
                    assert getattr(theirs, route.lookup) not in listed(answer, route), where
                    assert getattr(mine, route.lookup) in listed(answer, route), where
                    lists_read.add(route.name)
                elif route.kwarg is not None:
                    answer = call(caller, method, route.url(theirs))
                    where = (who, method, route.name, answer.content)
                    assert answer.status_code == 404 or refused_whatever_the_row(
                        answer, caller, method, route, mine
                    ), where
                else:
                    continue
                checked += 1
    lists = {route.name for route in ROUTES if route.actions.get("get") == "list"}
    assert lists_read == lists, f"No caller of B could read {lists - lists_read}"
    # A's owner sees each row B was refused, so the 404s are about B.
    for route in ROUTES:
        if route.kwarg is not None and "get" in route.methods:
            assert a_person.get(route.url(route.row(a))).status_code == 200, route.name
    assert stored() == before
    assert a_fields == {route.name: fields_of(route.row(a)) for route in ROUTES if route.row(a)}
    print(f"\n{checked} requests of B's on A's rows refused or filtered")


# List filters that take a row's id, and the row of A each names.
ID_FILTERS = {
    "workspace": attrgetter("workspace"),
    "account": attrgetter("account"),
    "post": attrgetter("post"),
    "job": attrgetter("job"),
    "tag": attrgetter("tag"),
    "campaign": attrgetter("campaign"),
    "endpoint": attrgetter("webhook"),
}


def test_a_list_filtered_by_a_s_row_answers_as_for_no_row(world):
    """A filter naming A's row tells B no more than one naming no row: that it exists
    would be told by a 200 for A's id against a 400 ("not one of the choices") for none."""
    a, b = world
    nowhere = 10**6
    for who, caller in callers_of(b).items():
        for route in ROUTES:
            if route.actions.get("get") != "list":
                continue
            for name, make in ID_FILTERS.items():
                theirs = caller.get(route.url(None), {name: make(a).pk})
                none = caller.get(route.url(None), {name: nowhere})
                where = (who, route.name, name, theirs.content, none.content)
                assert (theirs.status_code, theirs.json()) == (none.status_code, none.json()), where


def test_b_cannot_point_its_rows_at_a_s(world):
    a, b = world
    for who, caller in callers_of(b).items():
        for route in ROUTES:
            for method in route.methods:
                if not route.changes_rows(method):
                    continue
                own = route.row(b)
                own_fields = None if own is None else fields_of(own)
                bodies = zip(
                    POINTING_AT[route.name](a, b), POINTING_AT[route.name](b, b), strict=True
                )
                for (body, named), (own_body, _) in bodies:
                    before = stored()
                    answer = call(
                        caller, method, route.url(own), body, multipart=route.name in MULTIPART
                    )
                    where = (who, method, route.name, named, answer.content)
                    if not refused_whatever_the_row(answer, caller, method, route, own, own_body):
                        assert answer.status_code in (400, 404), where
                        assert named in answer.json(), where
                    assert stored() == before, where
                    if own is not None:
                        assert fields_of(own) == own_fields, where


def a_read_key(rows: Rows) -> APIClient:
    return key_client(rows.workspace, "read")


def a_viewer_signed_in(rows: Rows) -> APIClient:
    person = APIClient()
    person.force_login(
        MembershipFactory(workspace=rows.workspace, role=Membership.Role.VIEWER).user
    )
    return person


@pytest.mark.parametrize("reader", [a_read_key, a_viewer_signed_in])
def test_a_reader_is_refused_every_write_as_forbidden(world, reader):
    """A read key or a viewer sees its workspace's rows, so its writes are 403s, never a
    400 ("not one of the choices") or a 404 that would deny what it can read."""
    a, _ = world
    caller = reader(a)
    before = stored()
    a_fields = {route.name: fields_of(route.row(a)) for route in ROUTES if route.row(a)}
    not_forbidden = []
    for route in ROUTES:
        row = route.row(a)
        for method in route.methods:
            if method not in WRITES:
                continue
            # A writer's body where the route takes one, so that only the role refuses.
            writer = POINTING_AT[route.name](a, a) if route.changes_rows(method) else []
            for body, _ in writer or [({}, "")]:
                answer = call(
                    caller, method, route.url(row), body, multipart=route.name in MULTIPART
                )
                if answer.status_code != 403:
                    not_forbidden.append((method, route.name, answer.status_code, answer.json()))
    assert not not_forbidden, "\n".join(map(str, not_forbidden))
    assert stored() == before
    assert a_fields == {route.name: fields_of(route.row(a)) for route in ROUTES if route.row(a)}
