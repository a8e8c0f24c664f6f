"""Keeping X tokens fresh: before they expire, after a 401, once however many ask, and
what happens to the jobs of an account X no longer lets in."""

import threading
from datetime import timedelta

import pytest
import requests
import time_machine
from django.contrib.auth.models import Permission
from django.db import connection
from django.utils import timezone

from accounts.models import AuditEvent, SocialAccount
from accounts.services import social_account_credentials, social_account_credentials_save
from accounts.tasks import x_tokens_refresh_expiring
from publishing import dispatch
from publishing.execution import BACKOFF, job_execute
from publishing.models import JobStatus as S
from publishing.models import PublishAttempt
from publishing.networks.base import ErrorKind, PartContent, PublishError, PublishRequest
from publishing.networks.x import XAdapter
from publishing.networks.x.client import XClient
from tests.factories import (
    MembershipFactory,
    PostFactory,
    PublishJobFactory,
    UserFactory,
    WorkspaceFactory,
)
from tests.networks import adapter_args
from tests.x_oauth import (
    CLIENT_ID,
    CLIENT_SECRET,
    x_account_with_fresh_tokens,
    x_app_configure,
    x_connect,
)

pytestmark = pytest.mark.django_db

TWO_HOURS = timedelta(hours=2)


@pytest.fixture
def x(fake_x, settings, monkeypatch):
    x_app_configure(fake_x, settings, monkeypatch)
    return fake_x


@pytest.fixture
def account(x):
    return x_account_with_fresh_tokens(x, workspace=WorkspaceFactory(), username="kairos_brand")


def refreshes(x) -> int:
    return x.control.stats()["token_exchanges"].get("refresh_token", 0)


def tokens_of(account: SocialAccount) -> dict:
    account.refresh_from_db()
    return social_account_credentials(account=account)


def token_of(account: SocialAccount) -> str:
    return XClient.token(*adapter_args(account))


def publish(account: SocialAccount, text: str):
    snapshot, store = adapter_args(account)
    request = PublishRequest(
        account=snapshot, parts=(PartContent(text=text),), idempotency_key=f"key-{text}"
    )
    return XAdapter().publish(
        request, store=store, on_part_published=lambda index, external_id: None
    )


def test_a_token_expiring_within_15_minutes_is_refreshed_before_use(x, account):
    before = tokens_of(account)
    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=46), tick=False):
        publish(account, "Fresh token")
        after = tokens_of(account)
        assert account.token_expires_at == timezone.now() + TWO_HOURS

    assert refreshes(x) == 1
    assert after["access_token"] != before["access_token"]
    assert after["refresh_token"] != before["refresh_token"]
    assert x.control.posts_created(account.external_id, "Fresh token") == 1


def test_a_token_with_more_than_15_minutes_left_is_used_as_it_is(x, account):
    before = tokens_of(account)
    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=44), tick=False):
        publish(account, "Same token")
    assert refreshes(x) == 0
    assert tokens_of(account) == before


def test_the_periodic_refresh_takes_only_tokens_about_to_expire(x, account):
    later = x_account_with_fresh_tokens(x, workspace=account.workspace, username="later")
    SocialAccount.objects.filter(pk=account.pk).update(
        token_expires_at=timezone.now() + timedelta(minutes=10)
    )
    before = tokens_of(later)

    assert x_tokens_refresh_expiring() == 1

    assert refreshes(x) == 1
    assert tokens_of(later) == before
    account.refresh_from_db()
    assert account.token_expires_at > timezone.now() + timedelta(hours=1, minutes=59)


def test_a_refused_token_is_refreshed_once_and_the_request_sent_once_more(x, account):
    refresh_token = tokens_of(account)["refresh_token"]
    social_account_credentials_save(
        account=account,
        credentials={"access_token": "revoked-by-x", "refresh_token": refresh_token},
        expires_at=account.token_expires_at,
    )

    publish(account, "After a 401")

    assert refreshes(x) == 1
    assert x.control.stats()["requests"]["POST /2/tweets"] == {"401": 1, "201": 1}
    assert x.control.posts_created(account.external_id, "After a 401") == 1
    assert tokens_of(account)["access_token"] != "revoked-by-x"


def test_a_worker_refused_a_token_already_replaced_takes_the_new_one(x, account):
    refresh_token = tokens_of(account)["refresh_token"]
    social_account_credentials_save(
        account=account,
        credentials={"access_token": "revoked-by-x", "refresh_token": refresh_token},
        expires_at=account.token_expires_at,
    )
    late = SocialAccount.objects.get(pk=account.pk)  # read before the refresh below

    publish(account, "First")
    publish(late, "Second")

    # The late worker was refused the old token, found the new one stored, and used it.
    assert refreshes(x) == 1
    assert x.control.posts_created(account.external_id, "Second") == 1
    assert x.control.stats()["requests"]["POST /2/tweets"] == {"401": 2, "201": 2}


def test_a_caller_holding_the_old_expiry_uses_the_token_another_just_got(x, account):
    SocialAccount.objects.filter(pk=account.pk).update(
        token_expires_at=timezone.now() + timedelta(minutes=5)
    )
    first = SocialAccount.objects.get(pk=account.pk)
    second = SocialAccount.objects.get(pk=account.pk)

    assert token_of(first) == token_of(second)
    assert refreshes(x) == 1


def test_a_refusal_of_the_apps_keys_leaves_the_account_connected(x, account, settings):
    settings.X_CLIENT_SECRET = "not-the-secret"
    SocialAccount.objects.filter(pk=account.pk).update(
        token_expires_at=timezone.now() + timedelta(minutes=5)
    )
    account.refresh_from_db()

    with pytest.raises(PublishError, match="check X_CLIENT_ID and X_CLIENT_SECRET") as caught:
        token_of(account)

    assert caught.value.kind == ErrorKind.AUTH_EXPIRED
    account.refresh_from_db()
    assert account.status == SocialAccount.Status.ACTIVE


def test_x_failing_to_refresh_is_retried_later_with_the_tokens_kept(x, account):
    x.control.add_fault("status", status=503, method="POST", path_prefix="/2/oauth2/token")
    SocialAccount.objects.filter(pk=account.pk).update(
        token_expires_at=timezone.now() + timedelta(minutes=5)
    )
    account.refresh_from_db()
    before = tokens_of(account)

    with pytest.raises(PublishError) as caught:
        token_of(account)

    assert (caught.value.kind, caught.value.maybe_accepted) == (ErrorKind.SERVER, False)
    assert caught.value.kind.retryable
    assert tokens_of(account) == before
    assert account.status == SocialAccount.Status.ACTIVE


# --- An account X no longer lets in -----------------------------------------------------


def spend_refresh_token(x, account: SocialAccount) -> None:
    """Use the account's refresh token behind Kairos's back (a restored backup, another
    install of the same app): X rotates it, and the one Kairos holds is dead."""
    answer = requests.post(
        f"{x.url}/2/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens_of(account)["refresh_token"]},
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=10,
    )
    assert answer.status_code == 200


def test_a_rotated_away_refresh_token_holds_the_job_until_the_account_is_reconnected(x, client):
    x.control.create_user(username="kairos_brand")
    workspace = WorkspaceFactory()
    staff = UserFactory()
    MembershipFactory(user=staff, workspace=workspace)
    staff.user_permissions.add(Permission.objects.get(codename="add_socialaccount"))
    client.force_login(staff)
    account = x_connect(client, workspace=workspace)
    spend_refresh_token(x, account)
    post = PostFactory(workspace=workspace, texts=["Waits for its account"])
    # One attempt short of the retry budget: the wait must not spend what is left.
    job = PublishJobFactory(
        post=post, account=account, status=S.QUEUED, attempt_count=BACKOFF.max_attempts - 1
    )

    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=50), tick=False):
        assert job_execute(job_id=job.pk) == S.PENDING

        job.refresh_from_db()
        account.refresh_from_db()
        assert account.status == SocialAccount.Status.NEEDS_REAUTH
        event = AuditEvent.objects.get(action="account.needs_reauth")
        assert "invalid_request" in event.message
        assert (job.status, job.error_kind) == (S.PENDING, ErrorKind.AUTH_EXPIRED)
        assert "reconnect the account" in job.error_message
        assert job.attempts.get().outcome == PublishAttempt.Outcome.RETRY
        assert dispatch.jobs_dispatch(now=timezone.now(), limit=10) == (0, 0)

        assert x_connect(client, workspace=workspace).status == SocialAccount.Status.ACTIVE

        assert dispatch.jobs_dispatch(now=timezone.now(), limit=10) == (1, 0)
        assert job_execute(job_id=job.pk) == S.PUBLISHED
    assert x.control.posts_created(account.external_id, "Waits for its account") == 1


def test_jobs_already_queued_for_an_account_waiting_to_reconnect_wait_too(x, account):
    spend_refresh_token(x, account)
    post = PostFactory(workspace=account.workspace, texts=["One", "Two"])
    jobs = [
        PublishJobFactory(post=post, account=account, status=S.QUEUED),
        PublishJobFactory(
            post=post,
            account=account,
            status=S.QUEUED,
            occurrence_at=timezone.now() - timedelta(seconds=2),
        ),
    ]
    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=50), tick=False):
        assert [job_execute(job_id=job.pk) for job in jobs] == [S.PENDING, S.PENDING]
    # The second found the account already waiting and did not ask X again.
    assert x.control.stats()["token_refusals"] == {"refresh_token": 1}


# --- Races, for real: threads on PostgreSQL ---------------------------------------------


def in_parallel(count: int, work) -> list:
    """Run `work()` in `count` threads released together; each has its own connection."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = work()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_two_workers_needing_a_fresh_token_at_once_cause_one_exchange(x, account):
    old = tokens_of(account)["access_token"]
    SocialAccount.objects.filter(pk=account.pk).update(
        token_expires_at=timezone.now() + timedelta(minutes=5)
    )
    # X takes its time, so the second worker surely arrives while the first holds the lock.
    x.control.add_fault("latency", latency_ms=300, count=2, path_prefix="/2/oauth2/token")

    tokens = in_parallel(2, lambda: token_of(SocialAccount.objects.get(pk=account.pk)))

    assert refreshes(x) == 1
    assert tokens[0] == tokens[1] == tokens_of(account)["access_token"] != old


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_two_workers_refused_the_same_token_at_once_cause_one_exchange(x, account):
    refresh_token = tokens_of(account)["refresh_token"]
    social_account_credentials_save(
        account=account,
        credentials={"access_token": "revoked-by-x", "refresh_token": refresh_token},
        expires_at=account.token_expires_at,
    )
    x.control.add_fault("latency", latency_ms=300, count=2, path_prefix="/2/oauth2/token")

    def ask_who_i_am():
        mine = SocialAccount.objects.get(pk=account.pk)
        snapshot, store = adapter_args(mine)
        client = XClient()
        answer = client.call(
            "GET",
            "/2/users/me",
            token=client.token(snapshot, store),
            account=snapshot,
            store=store,
            endpoint="me",
        )
        mine.refresh_from_db()
        return answer["data"]["id"], social_account_credentials(account=mine)["access_token"]

    answers = in_parallel(2, ask_who_i_am)

    assert refreshes(x) == 1
    assert answers[0] == answers[1] == (account.external_id, tokens_of(account)["access_token"])
