"""check_accounts: what Kairos knows of each account and one harmless call to its
network (a real HTTP call to the fake Mastodon)."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.models import SocialAccount
from publishing.models import RateLimitWindow
from publishing.ratelimits import account_key
from tests.factories import SandboxAccountFactory

pytestmark = pytest.mark.django_db


def _check(*args) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("check_accounts", "--no-progress", *args, stdout=out, stderr=StringIO())
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


def test_healthy_accounts_exit_0_after_one_profile_call(mastodon, toot):
    account, user = toot
    mastodon.control.update_account(user.id, display_name="Brand", followers_count=12)
    sandbox = SandboxAccountFactory(workspace=account.workspace)

    code, out = _check()

    assert code == 0
    assert f"ok: {account} in brand: Active; profile ok" in out
    assert f"ok: {sandbox} in brand: Active; no call: Sandbox has no profile to ask for" in out
    assert "2 accounts checked; 0 need attention." in out
    account.refresh_from_db()
    assert account.followers_count == 12  # the call's answer is kept


def test_a_revoked_sign_in_needs_attention_and_exits_1(mastodon, toot):
    _, user = toot
    mastodon.control.revoke_tokens(user.id)

    code, out = _check("--json")

    assert code == 1
    [found] = json.loads(out)["accounts"]
    assert found["needs_attention"] is True
    assert found["call"].startswith("profile refused (auth_expired")
    assert any("refused the profile call" in problem for problem in found["problems"])


def test_what_kairos_knows_without_a_call(toot):
    account, _ = toot
    SocialAccount.objects.filter(pk=account.pk).update(
        status=SocialAccount.Status.NEEDS_REAUTH,
        token_expires_at=timezone.now() - timedelta(hours=1),
    )
    resets = timezone.now() + timedelta(minutes=10)
    RateLimitWindow.objects.create(
        network="mastodon",
        key=account_key(account.pk),
        endpoint="statuses",
        window="5m",
        limit=300,
        remaining=0,
        resets_at=resets,
        updated_at=timezone.now(),
    )

    code, out = _check("--json", "--no-call")

    assert code == 1
    [found] = json.loads(out)["accounts"]
    assert found["call"] == "not asked (--no-call)"
    assert found["rate_limited_until"] == {"statuses": resets.isoformat()}
    assert found["problems"][0].endswith("needs reconnecting: its jobs wait until a person acts.")
    assert "sign-in lapsed" in found["problems"][1]


def test_an_unknown_workspace_exits_2():
    assert _check("--workspace", "nowhere")[0] == 2
