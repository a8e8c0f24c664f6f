"""Reading posts' numbers from X over real HTTP against the fake X."""

from datetime import UTC, datetime, timedelta

import pytest
import requests
import time_machine

from accounts.services import social_account_connect
from publishing.networks.base import PostMetrics
from publishing.networks.x import XAdapter
from publishing.networks.x import metrics as x_metrics
from publishing.networks.x.client import XClient
from tests.factories import WorkspaceFactory
from tests.networks import adapter_args

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PUBLIC = {
    "retweet_count": 3,
    "reply_count": 2,
    "like_count": 40,
    "quote_count": 1,
    "bookmark_count": 5,
    "impression_count": 900,
}
PRIVATE = {
    "impression_count": 900,
    "url_link_clicks": 12,
    "user_profile_clicks": 7,
    "engagements": 66,
}


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def x(fake_x, settings, clock):
    fake_x.control.reset()
    settings.X_API_BASE_URL = fake_x.url
    return fake_x


@pytest.fixture
def brand(x):
    return x.control.create_connected_user(username="kairos_brand")


@pytest.fixture
def account(brand):
    return connect(brand.id, brand.access_token)


def connect(user_id, access_token):
    return social_account_connect(
        network="x",
        workspace=WorkspaceFactory(),
        external_id=user_id,
        handle="kairos_brand",
        credentials={"access_token": access_token},
    )


def fetch(account, *, external_ids):
    snapshot, store = adapter_args(account)
    return XAdapter().metrics_fetch(account=snapshot, external_ids=external_ids, store=store)


def post(x, user, text):
    response = requests.post(
        f"{x.url}/2/tweets", json={"text": text}, headers=user.headers, timeout=5
    )
    return response.json()["data"]["id"]


def lookups(x) -> int:
    return sum(x.control.stats()["requests"].get("GET /2/tweets", {}).values())


def test_own_recent_posts_come_with_their_private_numbers(x, brand, account):
    post_id = post(x, brand, "Launch")
    x.control.set_post_metrics(post_id, public_metrics=PUBLIC, non_public_metrics=PRIVATE)

    reading = fetch(account, external_ids=[post_id])

    assert reading.gone == frozenset()
    metrics = reading.metrics[post_id]
    assert metrics == PostMetrics(
        impressions=900,
        likes=40,
        reposts=3,
        replies=2,
        quotes=1,
        bookmarks=5,
        link_clicks=12,
        profile_clicks=7,
        engagements=66,
        raw=metrics.raw,
    )
    assert set(metrics.raw) == {"public_metrics", "non_public_metrics", "organic_metrics"}


def test_ids_go_100_to_a_call(x, brand, account):
    x.control.set_rate_limit("create_post_per_user_15min", limit=200)
    ids = [post(x, brand, f"Post {n}") for n in range(101)]

    reading = fetch(account, external_ids=ids)

    assert set(reading.metrics) == set(ids)
    assert lookups(x) == 2


def test_private_numbers_refused_after_30_days_keep_the_public_ones(x, brand, account, clock):
    post_id = post(x, brand, "Old news")
    clock.shift(timedelta(days=30, seconds=1))
    account = connect(brand.id, x.control.issue_tokens(brand.id)["access_token"])

    metrics = fetch(account, external_ids=[post_id]).metrics[post_id]

    assert metrics.likes is not None and metrics.impressions is not None
    assert (metrics.link_clicks, metrics.profile_clicks, metrics.engagements) == (None, None, None)
    assert set(metrics.raw) == {"public_metrics"}
    assert lookups(x) == 1  # the post came back with its public numbers: no second call


def test_someone_elses_post_gives_only_public_numbers(x, account):
    other = x.control.create_connected_user(username="someone_else")
    post_id = post(x, other, "Not ours")

    metrics = fetch(account, external_ids=[post_id]).metrics[post_id]

    assert metrics.likes is not None and metrics.link_clicks is None


def test_a_post_left_out_for_a_refused_field_is_asked_again_for_public_numbers(
    x, brand, account, monkeypatch
):
    """X may also leave such a post out of `data` altogether; then it is asked again."""
    other = x.control.create_connected_user(username="someone_else")
    ours, theirs = post(x, brand, "Ours"), post(x, other, "Theirs")
    call = XClient.call
    fields_asked = []

    def leave_refused_posts_out(client, *args, **kwargs):
        fields_asked.append(kwargs["params"]["tweet.fields"])
        answer = call(client, *args, **kwargs)
        refused = {error["resource_id"] for error in answer.get("errors", [])}
        answer["data"] = [item for item in answer["data"] if item["id"] not in refused]
        return answer

    monkeypatch.setattr(XClient, "call", leave_refused_posts_out)

    reading = fetch(account, external_ids=[ours, theirs])

    assert fields_asked == [x_metrics.ALL_FIELDS, x_metrics.PUBLIC_FIELDS]
    assert reading.metrics[ours].link_clicks is not None
    assert reading.metrics[theirs].likes is not None
    assert reading.metrics[theirs].link_clicks is None


def test_a_deleted_post_is_gone(x, brand, account):
    kept, deleted = post(x, brand, "Kept"), post(x, brand, "Deleted")
    requests.delete(f"{x.url}/2/tweets/{deleted}", headers=brand.headers, timeout=5)

    reading = fetch(account, external_ids=[kept, deleted])

    assert set(reading.metrics) == {kept}
    assert reading.gone == frozenset({deleted})
