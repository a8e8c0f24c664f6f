"""send_test_post: a test post through the ordinary services, for real on the sandbox
and on a (fake, over HTTP) Mastodon only when told."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import SocialAccount
from posts.models import Post
from publishing.models import JobStatus, PublishJob, SandboxPost
from tests.factories import SandboxAccountFactory

pytestmark = pytest.mark.django_db


def _send(*args) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("send_test_post", *args, stdout=out, stderr=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


def test_the_sandbox_gets_the_post_and_its_link_is_printed():
    account = SandboxAccountFactory(handle="news")

    code, out = _send("@news")

    assert code == 0
    job = PublishJob.objects.get(account=account)
    assert job.status == JobStatus.PUBLISHED
    assert f"Published to {account}: {job.external_url}" in out
    assert SandboxPost.objects.get().text.startswith("Kairos test post, ")


def test_a_dry_run_checks_and_sends_nothing():
    SandboxAccountFactory(handle="news")

    assert _send("sandbox:@news", "--dry-run")[0] == 0
    code, out = _send("@news", "--dry-run", "--text", "x" * 5001)

    assert code == 1
    assert "5001 characters" in out and "would be refused" in out
    assert not Post.objects.exists() and not SandboxPost.objects.exists()


def test_a_paused_account_is_refused_before_anything_is_sent():
    account = SandboxAccountFactory(handle="news", status=SocialAccount.Status.DISABLED)

    code, out = _send(str(account.pk))

    assert code == 1 and "was refused, nothing was sent" in out
    assert not Post.objects.exists()


def test_a_real_network_is_posted_to_only_when_told(mastodon, toot):
    account, user = toot

    code, out = _send(str(account.pk))
    assert code == 2 and "a real network" in out
    assert _send(str(account.pk), "--dry-run")[0] == 0
    assert mastodon.control.statuses(account_id=user.id) == []

    code, out = _send(str(account.pk), "--send-to-real-network", "--text", "Hello, fediverse")

    assert code == 0
    assert mastodon.control.statuses_created(user.id, "Hello, fediverse") == 1
    assert PublishJob.objects.get(account=account).external_url in out
