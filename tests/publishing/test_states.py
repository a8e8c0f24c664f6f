import pytest
from django.utils import timezone

from publishing.models import JobStatus as S
from publishing.states import (
    TERMINAL,
    TRANSITIONS,
    TransitionNotAllowed,
    job_transition,
    transition_check,
)
from tests.factories import PublishJobFactory

ALLOWED = [(a, b) for a, targets in TRANSITIONS.items() for b in targets]
FORBIDDEN = [(a, b) for a in S.values for b in S.values if b not in TRANSITIONS[a]]


def test_every_status_has_a_row():
    assert set(TRANSITIONS) == set(S.values)


def test_published_and_cancelled_are_final():
    assert {S.PUBLISHED, S.CANCELLED} == TERMINAL


def test_a_running_job_cannot_be_cancelled():
    # Once a worker has it, the post may already be on the network.
    assert S.CANCELLED not in TRANSITIONS[S.RUNNING]


@pytest.mark.parametrize(("from_status", "to_status"), ALLOWED)
@pytest.mark.django_db
def test_allowed_transition_moves_the_job(from_status, to_status):
    job = PublishJobFactory(status=from_status)
    moved = job_transition(
        job_ids=[job.pk], from_statuses=[from_status], to_status=to_status, now=timezone.now()
    )
    job.refresh_from_db()
    assert (moved, job.status) == (1, to_status)


@pytest.mark.parametrize(("from_status", "to_status"), FORBIDDEN)
def test_forbidden_transition_is_refused_before_touching_the_database(from_status, to_status):
    with pytest.raises(TransitionNotAllowed):
        transition_check([from_status], to_status)


@pytest.mark.django_db
def test_compare_and_set_loses_when_the_status_moved_on():
    job = PublishJobFactory(status=S.QUEUED)
    now = timezone.now()
    first = job_transition(job_ids=[job.pk], from_statuses=[S.QUEUED], to_status=S.RUNNING, now=now)
    second = job_transition(
        job_ids=[job.pk], from_statuses=[S.QUEUED], to_status=S.RUNNING, now=now
    )
    assert (first, second) == (1, 0)
