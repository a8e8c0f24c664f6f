import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import ProgrammingError
from django.utils import timezone

from accounts.models import SocialAccount
from publishing.heartbeats import heartbeat_worker_record
from publishing.management.commands import kairos_status as command
from publishing.models import Heartbeat
from publishing.models import JobStatus as S
from tests.factories import PublishJobFactory, SandboxAccountFactory

pytestmark = pytest.mark.django_db


def kairos_status(*args: str) -> tuple[int, str]:
    out = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("kairos_status", *args, stdout=out, no_color=True)
    return exit_.value.code, out.getvalue()


@pytest.fixture
def alive():
    now = timezone.now()
    Heartbeat.objects.create(kind=Heartbeat.Kind.TICK, name="dispatch", seen_at=now)
    heartbeat_worker_record(name="web-1:4242", now=now)


def test_exit_0_and_ok_when_publishing_and_nothing_waits(alive):
    code, out = kairos_status()
    assert code == 0
    assert "OK: publishing, nothing waits for a person." in out
    assert "Workers seen: 1 (web-1:4242)" in out


def test_exit_1_naming_jobs_needing_review_and_accounts_to_reconnect(alive):
    job = PublishJobFactory(status=S.NEEDS_REVIEW, error_message="Check @brand on X.")
    account = SandboxAccountFactory(handle="lapsed", status=SocialAccount.Status.NEEDS_REAUTH)
    code, out = kairos_status()
    assert code == 1
    assert "ATTENTION: publishing, but 1 job(s) need review; 1 account(s) need attention." in out
    assert f"job {job.pk}, post {job.post_id} → {job.account}, needs_review" in out
    assert "Check @brand on X." in out
    assert f"@lapsed (Sandbox) in {account.workspace}: Needs reconnecting" in out


def test_exit_2_when_the_tick_stalled_whatever_else(alive):
    Heartbeat.objects.filter(kind=Heartbeat.Kind.TICK).update(
        seen_at=timezone.now() - timedelta(minutes=5)
    )
    PublishJobFactory(status=S.NEEDS_REVIEW)
    code, out = kairos_status()
    assert code == 2
    assert "FAILING: tick (Kairos cannot publish on time)." in out
    assert "FAIL tick" in out


def test_json_carries_the_same_facts_and_the_exit_code(alive):
    late = PublishJobFactory(next_attempt_at=timezone.now() - timedelta(seconds=20))
    PublishJobFactory(status=S.PENDING, next_attempt_at=timezone.now() + timedelta(hours=1))
    code, out = kairos_status("--json")
    document = json.loads(out)
    assert code == document["exit_code"] == 0
    assert document["state"] == "ok"
    assert document["jobs"]["pending"] == 2
    assert document["backlog"]["due_unqueued"] == 1
    assert [job["id"] for job in document["late"]] == [late.pk]
    assert document["next_due_at"] is not None
    assert document["last_tick_at"] is not None
    assert [worker["name"] for worker in document["workers"]] == ["web-1:4242"]
    assert set(document["checks"]) == {"database", "broker", "tick", "workers", "backlog"}


def test_an_unmigrated_database_fails_with_a_hint(monkeypatch):
    def unmigrated(*, now):
        raise ProgrammingError("no such table: publishing_heartbeat")

    monkeypatch.setattr(command, "status_read", unmigrated)
    code, out = kairos_status("--json")
    document = json.loads(out)
    assert code == 2
    assert document["state"] == "failing"
    assert "has `manage.py migrate` run?" in document["attention"][0]


def test_help_documents_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        call_command("kairos_status", "--help")
    help_text = " ".join(capsys.readouterr().out.split())
    assert "Exit code 0: ok; 1: something needs attention; 2: failing" in help_text
