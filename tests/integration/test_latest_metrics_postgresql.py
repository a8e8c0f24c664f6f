"""The roll-up of latest snapshots on PostgreSQL, whose triggers are statement triggers
with transition tables (SQLite's are row triggers): the same tests as
tests/analytics/test_latest_metrics.py, and a COPY, which only PostgreSQL has."""

from datetime import timedelta

import pytest
from django.db import connection

from analytics.models import MetricsSnapshot
from tests.analytics.test_latest_metrics import (  # noqa: F401 (collected here again)
    account,
    latest,
    published,
    test_a_later_snapshot_moves_the_row_forward_and_an_earlier_one_does_not,
    test_compaction_keeps_the_latest_and_age_retention_removes_it_with_its_snapshots,
    test_correcting_the_latest_snapshot_corrects_the_row_and_a_job_takes_its_row_along,
    test_deleting_snapshots_falls_back_to_the_previous_or_leaves_no_row,
    test_one_bulk_insert_of_many_jobs_keeps_each_jobs_latest,
    test_stats_and_best_times_read_the_same_over_the_paris_dst_week,
    utc,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_a_copy_of_many_snapshots_keeps_each_jobs_latest(account):  # noqa: F811
    jobs = [published(account, utc(2026, 3, day, 9)) for day in (2, 3)]
    table = MetricsSnapshot._meta.db_table
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} (job_id, due_at, collected_at, likes, raw) FROM STDIN") as copy,
    ):
        for job in jobs:
            for hours in (24, 1, 6):
                at = job.published_at + timedelta(hours=hours)
                copy.write_row([job.pk, at, at, hours, "{}"])

    assert [latest(job) for job in jobs] == [
        (utc(2026, 3, 3, 9), 24),
        (utc(2026, 3, 4, 9), 24),
    ]
