"""The chaos report's counting, on made-up data: no servers, no database."""

import json
import math

import pytest

from chaos.report import (
    ChaosEvent,
    JobRow,
    Observations,
    ScheduledPost,
    duplicate_count,
    lateness_seconds,
    percentile,
    report_build,
)

DUE = 1_000_000.0


def scheduled(
    post_id: int, *, user: str = "u1", due: float = DUE, network: str = "x"
) -> ScheduledPost:
    return ScheduledPost(
        post_id=post_id, user_id=user, text=f"chaos #{post_id}", due=due, network=network
    )


def observe(posts, jobs, creations, first_created_at=None, **overrides) -> Observations:
    fields = {
        "posts": posts,
        "jobs": jobs,
        "creations": creations,
        "first_created_at": first_created_at or {},
        "reconciled_attempts": 0,
        "accept_then_drop_fired": 0,
        "failed_lookups": 0,
        "workers_killed": 0,
        "peak_publish_backlog": 0,
        "unplanned_exits": 0,
        "events": [],
        "setup_s": 1.0,
        "wall_s": 10.0,
        **overrides,
    }
    return Observations(**fields)


# --- Percentiles ------------------------------------------------------------------------


def test_percentile_is_the_nearest_rank():
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0


def test_percentile_does_not_depend_on_order():
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0


def test_percentile_of_few_values_is_one_of_them():
    assert percentile([0.4], 99) == 0.4
    assert percentile([0.1, 5.0], 50) == 0.1
    assert percentile([0.1, 5.0], 99) == 5.0


def test_percentile_of_nothing_is_nan_not_zero():
    assert math.isnan(percentile([], 50))


@pytest.mark.parametrize("q", [0, -1, 101])
def test_percentile_refuses_a_rank_outside_0_to_100(q):
    with pytest.raises(ValueError):
        percentile([1.0], q)


# --- Counting on the fake X's side -------------------------------------------------------


def test_duplicates_are_the_creations_beyond_the_first_of_each_user_and_text():
    creations = {("u1", "a"): 1, ("u1", "b"): 3, ("u2", "a"): 2}
    assert duplicate_count(creations) == 3


def test_the_same_text_on_two_accounts_is_no_duplicate():
    assert duplicate_count({("u1", "a"): 1, ("u2", "a"): 1}) == 0


def test_lateness_is_first_creation_minus_due_for_posts_that_reached_x():
    posts = [scheduled(1, due=100.0), scheduled(2, due=200.0), scheduled(3, due=300.0)]
    first = {("u1", "chaos #1"): 100.5, ("u1", "chaos #2"): 199.0}
    assert lateness_seconds(posts, first) == [0.5, -1.0]


# --- The report ---------------------------------------------------------------------------


def test_a_clean_run_passes():
    posts = [scheduled(1), scheduled(2, user="u2")]
    report = report_build(
        observe(
            posts,
            jobs=[JobRow(10, 1, "published"), JobRow(11, 2, "published")],
            creations={("u1", "chaos #1"): 1, ("u2", "chaos #2"): 1},
            first_created_at={("u1", "chaos #1"): DUE + 0.25, ("u2", "chaos #2"): DUE + 0.75},
        )
    )
    assert (report.posts, report.published, report.lost, report.duplicates) == (2, 2, 0, 0)
    assert report.p50_lateness_s == 0.25
    assert report.p99_lateness_s == 0.75
    assert report.passed


def test_a_post_never_on_x_and_not_published_is_lost():
    posts = [scheduled(1), scheduled(2)]
    report = report_build(
        observe(
            posts,
            jobs=[JobRow(10, 1, "published"), JobRow(11, 2, "failed")],
            creations={("u1", "chaos #1"): 1},
        )
    )
    assert report.lost == 1
    assert report.lost_post_ids == [2]
    assert not report.passed


def test_a_post_on_the_wrong_account_does_not_count_as_delivered():
    report = report_build(
        observe([scheduled(1)], jobs=[JobRow(10, 1, "failed")], creations={("u2", "chaos #1"): 1})
    )
    assert report.lost == 1
    assert report.stray_creations == 1


def test_a_post_marked_published_but_never_on_x_is_a_phantom_not_a_loss():
    report = report_build(observe([scheduled(1)], jobs=[JobRow(10, 1, "published")], creations={}))
    assert report.lost == 0
    assert report.phantom_published == 1
    assert report.phantom_post_ids == [1]


def test_a_post_created_twice_fails_the_run():
    report = report_build(
        observe(
            [scheduled(1)],
            jobs=[JobRow(10, 1, "published")],
            creations={("u1", "chaos #1"): 2},
        )
    )
    assert report.duplicates == 1
    assert report.duplicated_post_ids == [1]
    assert not report.passed


def test_needs_review_is_split_by_what_x_really_had():
    posts = [scheduled(1), scheduled(2), scheduled(3)]
    report = report_build(
        observe(
            posts,
            jobs=[
                JobRow(10, 1, "needs_review"),
                JobRow(11, 2, "needs_review"),
                JobRow(12, 3, "published"),
            ],
            creations={("u1", "chaos #1"): 1, ("u1", "chaos #3"): 1},
            failed_lookups=5,
        )
    )
    assert report.needs_review == 2
    assert report.needs_review_on_network == 1
    # Each unanswerable question needs at least one look-up X failed; never more than asked.
    assert report.needs_review_unanswerable == 2
    assert report.needs_review_job_ids == [10, 11]
    assert report.lost == 1  # post 2: never on X, whatever staff decide later


def test_a_post_still_in_flight_or_without_a_job_is_unsettled_not_lost():
    posts = [scheduled(1), scheduled(2), scheduled(3)]
    report = report_build(
        observe(
            posts,
            jobs=[JobRow(10, 1, "queued"), JobRow(11, 2, "running"), JobRow(12, 2, "failed")],
            creations={},
        )
    )
    assert report.unsettled == 3
    assert report.lost == 0
    assert report.jobs_by_status == {"failed": 1, "queued": 1, "running": 1}


def test_a_run_that_never_settled_fails_even_with_nothing_lost_so_far():
    report = report_build(
        observe(
            [scheduled(1)],
            jobs=[JobRow(10, 1, "published")],
            creations={("u1", "chaos #1"): 1},
            stuck=["1 job(s) not final"],
        )
    )
    assert report.timed_out
    assert not report.passed


def test_the_summary_line_has_the_agreed_shape():
    report = report_build(
        observe(
            [scheduled(1)],
            jobs=[JobRow(10, 1, "published")],
            creations={("u1", "chaos #1"): 1},
            first_created_at={("u1", "chaos #1"): DUE + 1.234},
            wall_s=171.456,
        )
    )
    assert report.summary_line() == (
        "chaos: posts=1 published=1 lost=0 duplicates=0 needs_review=0 "
        "p50_lateness_s=1.23 p99_lateness_s=1.23 wall_s=171.46 "
        "networks=x[posts=1,published=1,lost=0,duplicates=0]"
    )


def test_each_network_is_counted_apart():
    posts = [
        scheduled(1, user="x:1"),
        scheduled(2, user="mastodon:1", network="mastodon"),
        scheduled(3, user="mastodon:1", network="mastodon"),
    ]
    report = report_build(
        observe(
            posts,
            jobs=[JobRow(10, 1, "published"), JobRow(11, 2, "published"), JobRow(12, 3, "failed")],
            # The same id on X is another account: its creation is no delivery of post 3.
            creations={
                ("x:1", "chaos #1"): 1,
                ("mastodon:1", "chaos #2"): 2,
                ("x:1", "chaos #3"): 1,
            },
        )
    )
    assert report.by_network == {
        "mastodon": {"posts": 2, "published": 1, "lost": 1, "duplicates": 1},
        "x": {"posts": 1, "published": 1, "lost": 0, "duplicates": 0},
    }
    assert report.summary_line().endswith(
        " networks=mastodon[posts=2,published=1,lost=1,duplicates=1],"
        "x[posts=1,published=1,lost=0,duplicates=0]"
    )
    assert "… on mastodon | posts 2, published 1, lost 1, duplicates 1" in report.markdown()


def test_json_and_markdown_carry_the_same_figures():
    event = ChaosEvent(at=30.0, what="flushed Redis")
    report = report_build(
        observe(
            [scheduled(1)],
            jobs=[JobRow(10, 1, "published")],
            creations={("u1", "chaos #1"): 1},
            events=[event],
            workers_killed=14,
            settings={"seed": 1},
        )
    )
    saved = json.loads(report.as_json())
    assert saved["lost"] == 0
    assert saved["workers_killed"] == 14
    assert saved["passed"] is True
    assert saved["events"] == [{"at": 30.0, "what": "flushed Redis"}]
    assert saved["settings"] == {"seed": 1}
    table = report.markdown()
    assert "| workers killed | 14 |" in table
    assert "| **lost** (never on its network, not marked published) | 0 |" in table


def test_json_says_null_when_there_was_no_lateness_to_measure():
    report = report_build(observe([scheduled(1)], jobs=[JobRow(10, 1, "failed")], creations={}))
    saved = json.loads(report.as_json())
    assert saved["p50_lateness_s"] is None
    assert "p50_lateness_s=nan" in report.summary_line()
