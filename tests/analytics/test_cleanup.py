from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from accounts.idempotency import idempotency_claim, idempotency_store
from accounts.models import AuditEvent, IdempotentRequest
from accounts.services import audit_record
from analytics.tasks import retention_cleanup
from publishing.beat import RETENTION_CLEANUP
from tests.factories import WorkspaceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def audit_trail():
    """Three audit events: two older than a year, one from today."""
    workspace = WorkspaceFactory()
    for days in (400, 366, 0):
        with time_machine.travel(timezone.now() - timedelta(days=days), tick=False):
            audit_record(workspace=workspace, actor=None, action=f"{days}", subject=workspace)
    return workspace


def _cleanup(*args) -> str:
    out = StringIO()
    call_command("cleanup", "--no-progress", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_dry_run_says_what_would_go_and_deletes_nothing(audit_trail):
    out = _cleanup("--dry-run")

    assert "would delete 2 audit events older than 365 days" in out
    assert "Dry run: nothing was deleted." in out
    assert AuditEvent.objects.filter(action__in=["400", "366", "0"]).count() == 3


def test_cleanup_leaves_what_is_younger_than_the_cut_off(audit_trail):
    out = _cleanup("--batch-size=1")

    assert "deleted 2 audit events older than 365 days" in out
    assert list(
        AuditEvent.objects.filter(action__in=["400", "366", "0"]).values_list("action", flat=True)
    ) == ["0"]


def test_a_batch_size_below_one_is_refused():
    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        _cleanup("--batch-size=0")


def test_beat_runs_the_cleanup_daily_through_its_task(audit_trail):
    entry = PeriodicTask.objects.get(name=RETENTION_CLEANUP)
    assert entry.task == "analytics.tasks.retention_cleanup"
    assert entry.interval.every == 24 * 60 * 60

    assert retention_cleanup()["audit events"] == 2


def test_idempotency_answers_go_after_their_day():
    start = timezone.now()
    for hours, key in ((0, "old"), (20, "young")):
        with time_machine.travel(start + timedelta(hours=hours), tick=False):
            claim = idempotency_claim(caller="key:abc", key=key, fingerprint="f", workspace_id=None)
            idempotency_store(row=claim.row, status=201, body={"id": 1})

    with time_machine.travel(start + timedelta(hours=25), tick=False):
        assert "would delete 1 idempotency answers older than 24 hours" in _cleanup("--dry-run")
        assert IdempotentRequest.objects.count() == 2

        assert "deleted 1 idempotency answers older than 24 hours" in _cleanup()
        assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["young"]
        repeat = idempotency_claim(
            caller="key:abc", key="young", fingerprint="f", workspace_id=None
        )
        assert repeat.replay == (201, {"id": 1})
