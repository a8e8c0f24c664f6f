"""An account's health and profile, as staff see them in the admin."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from accounts.models import AuditEvent, SocialAccount
from accounts.selectors import duration_words, social_account_connection
from accounts.services import social_account_connect
from accounts.tasks import x_profiles_refresh
from publishing.beat import X_PROFILES_REFRESH, X_TOKENS_REFRESH
from publishing.models import RateLimitWindow
from publishing.networks.base import ErrorKind, PartContent, PublishError, PublishRequest
from publishing.networks.x import XAdapter
from publishing.selectors import social_account_health
from tests.factories import SandboxAccountFactory, WorkspaceFactory
from tests.networks import adapter_args
from tests.x_oauth import x_account_with_fresh_tokens, x_app_configure

pytestmark = pytest.mark.django_db


@pytest.fixture
def x(fake_x, settings, monkeypatch):
    x_app_configure(fake_x, settings, monkeypatch)
    return fake_x


def x_account(*, expires_in: timedelta | None = timedelta(hours=2), **fields) -> SocialAccount:
    account = social_account_connect(
        network="x",
        workspace=WorkspaceFactory(),
        external_id="42",
        handle="kairos_brand",
        credentials={"access_token": "access-token-value", "refresh_token": "refresh-token-value"},
        expires_at=timezone.now() + expires_in if expires_in else None,
    )
    if fields:
        SocialAccount.objects.filter(pk=account.pk).update(**fields)
        account.refresh_from_db()
    return account


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(hours=1, minutes=12, seconds=30), "1 h 12 min"),
        (timedelta(hours=2), "2 h"),
        (timedelta(minutes=40, seconds=59), "40 min"),
        (timedelta(seconds=59), "under a minute"),
    ],
)
def test_durations_read_as_people_say_them(delta, words):
    assert duration_words(delta) == words


def test_the_sign_in_says_how_long_the_token_has_left_never_the_token():
    now = timezone.now()
    account = x_account(expires_in=timedelta(hours=1, minutes=12, seconds=30))
    assert social_account_connection(account=account, now=now) == "connected, expires in 1 h 12 min"
    later = now + timedelta(hours=1, minutes=20)
    assert social_account_connection(account=account, now=later) == (
        "connected, token expired 7 min ago (renewed at its next use)"
    )
    assert social_account_connection(account=x_account(expires_in=None), now=now) == "connected"
    assert social_account_connection(account=SandboxAccountFactory(), now=now) == (
        "built in, no sign-in needed"
    )


def test_health_names_every_problem_most_pressing_first():
    now = timezone.now()
    account = x_account()
    assert social_account_health(account=account, now=now) == ["active"]

    resets_at = now + timedelta(minutes=9)
    RateLimitWindow.objects.create(
        network="x",
        key=f"account:{account.pk}",
        endpoint="post",
        window="15m",
        limit=100,
        remaining=0,
        resets_at=resets_at,
        updated_at=now,
    )
    account.status = SocialAccount.Status.NEEDS_REAUTH
    account.billing_problem = "X refused for billing: credits depleted"
    assert social_account_health(account=account, now=now) == [
        "needs reconnecting: the network refused its sign-in; connect it again",
        "billing problem: X refused for billing: credits depleted",
        f"rate-limited until {resets_at:%Y-%m-%d %H:%M} UTC",
    ]
    assert social_account_health(account=account, now=resets_at) == [
        "needs reconnecting: the network refused its sign-in; connect it again",
        "billing problem: X refused for billing: credits depleted",
    ]


def test_the_admin_shows_health_and_sign_in_on_the_list_and_the_page(admin_client):
    with time_machine.travel(timezone.now(), tick=False):
        account = x_account(
            expires_in=timedelta(hours=1, minutes=12, seconds=30),
            status=SocialAccount.Status.NEEDS_REAUTH,
            profile_refreshed_at=timezone.now(),
        )
        listing = admin_client.get("/admin/accounts/socialaccount/").content.decode()
        page = admin_client.get(f"/admin/accounts/socialaccount/{account.pk}/change/")

    for html in (listing, page.content.decode()):
        assert "connected, expires in 1 h 12 min" in html
        assert "needs reconnecting" in html
        assert "access-token-value" not in html and "refresh-token-value" not in html


# --- Billing -------------------------------------------------------------------------------


def test_a_billing_refusal_flags_the_account_for_staff(x, admin_client):
    account = x_account_with_fresh_tokens(x, workspace=WorkspaceFactory(), username="brand")
    x.control.set_credits_depleted(True)

    with pytest.raises(PublishError) as caught:
        snapshot, store = adapter_args(account)
        XAdapter().publish(
            PublishRequest(account=snapshot, parts=(PartContent(text="Hi"),), idempotency_key="k"),
            store=store,
            on_part_published=lambda index, external_id: None,
        )

    assert (caught.value.kind, caught.value.http_status) == (ErrorKind.BILLING, 402)
    account.refresh_from_db()
    assert account.billing_problem == caught.value.message
    assert AuditEvent.objects.filter(action="account.billing_problem").count() == 1
    page = admin_client.get(f"/admin/accounts/socialaccount/{account.pk}/change/")
    assert "The network refused @brand (X) for billing" in page.content.decode()

    admin_client.post(
        "/admin/accounts/socialaccount/",
        {"action": "clear_billing_problem", "_selected_action": [account.pk]},
    )
    account.refresh_from_db()
    assert account.billing_problem == ""


# --- Profile -------------------------------------------------------------------------------


def test_profiles_are_refreshed_once_they_are_a_day_old(x):
    account = x_account_with_fresh_tokens(x, workspace=WorkspaceFactory(), username="brand")
    x.control.update_user(account.external_id, followers_count=99, subscription_type="Basic")

    assert x_profiles_refresh() == 0  # connected a moment ago: still fresh

    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1), tick=False):
        assert x_profiles_refresh() == 1
        account.refresh_from_db()
        assert account.profile_refreshed_at == timezone.now()
    assert (account.followers_count, account.subscription_type) == (99, "Basic")
    assert account.avatar_url.startswith("https://pbs.twimg.com/")


def test_a_stale_profile_is_refreshed_in_the_background_when_staff_look(
    admin_client, broker_messages
):
    broker_messages("celery")
    account = x_account(profile_refreshed_at=timezone.now() - timedelta(days=2))
    fresh = x_account(profile_refreshed_at=timezone.now())

    assert (
        admin_client.get(f"/admin/accounts/socialaccount/{account.pk}/change/").status_code == 200
    )
    assert admin_client.get(f"/admin/accounts/socialaccount/{fresh.pk}/change/").status_code == 200

    assert broker_messages("celery") == [("accounts.tasks.x_profiles_refresh", [])]


def test_beat_refreshes_tokens_every_five_minutes_and_profiles_daily():
    tokens = PeriodicTask.objects.get(name=X_TOKENS_REFRESH)
    profiles = PeriodicTask.objects.get(name=X_PROFILES_REFRESH)
    assert tokens.task == "accounts.tasks.x_tokens_refresh_expiring"
    assert tokens.interval.schedule.run_every == timedelta(minutes=5)
    assert profiles.task == "accounts.tasks.x_profiles_refresh"
    assert profiles.interval.schedule.run_every == timedelta(days=1)
