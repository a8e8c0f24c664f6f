"""What the chaos run found, computed from plain data so it can be tested without servers.

The inputs come from two sides that never talk to each other: Kairos's database
(what Kairos believes it did) and the fake networks (what really reached them).
Accounts are named `<network>:<id>` (chaos/networks.py), so one mapping holds every
network. The guarantee holds when every post appeared on its network exactly once:

* lost: a settled post (its jobs all final) whose text never appeared on its
  account and that Kairos does not claim to have published (if it claimed so,
  it is counted apart, as a phantom). A post still in flight when the run gave
  up waiting is unsettled, not lost: the run then fails for the timeout;
* duplicates: every creation of an (account, text) on a network beyond the first.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

FINAL_JOB_STATUSES = frozenset({"published", "failed", "needs_review", "missed", "cancelled"})
# How many ids of a kind the report lists, so a bad run stays readable.
EXAMPLES = 20

UserText = tuple[str, str]


@dataclass(frozen=True)
class ScheduledPost:
    """A post the run scheduled: which account (`<network>:<id>`) should show which text,
    due when (epoch s)."""

    post_id: int
    user_id: str
    text: str
    due: float
    network: str = "x"


@dataclass(frozen=True)
class JobRow:
    job_id: int
    post_id: int
    status: str


@dataclass(frozen=True)
class ChaosEvent:
    at: float  # seconds since the Kairos processes started
    what: str


@dataclass(frozen=True)
class Observations:
    """Everything the report is computed from, gathered once the processes have stopped."""

    posts: Sequence[ScheduledPost]
    jobs: Sequence[JobRow]
    # How many times each (account, submitted text) was created on its fake network.
    creations: Mapping[UserText, int]
    # When each (account, submitted text) was first created there (epoch s).
    first_created_at: Mapping[UserText, float]
    # Attempts whose outcome was unknown, so that their job went to reconciliation.
    reconciled_attempts: int
    accept_then_drop_fired: int
    # Look-ups of an account's posts that its fake network did not answer with a 200.
    failed_lookups: int
    workers_killed: int
    # Kairos processes that died without being killed, and were restarted.
    unplanned_exits: int
    # The most messages seen waiting in the broker's publish queue.
    peak_publish_backlog: int
    events: Sequence[ChaosEvent]
    setup_s: float
    wall_s: float
    settings: Mapping[str, Any] = field(default_factory=dict)
    # What was still unsettled when the run gave up waiting; empty when it settled.
    stuck: Sequence[str] = ()


@dataclass(frozen=True)
class ChaosReport:
    posts: int
    published: int
    lost: int
    duplicates: int
    needs_review: int
    p50_lateness_s: float
    p99_lateness_s: float
    max_lateness_s: float
    wall_s: float
    setup_s: float
    jobs_by_status: dict[str, int]
    unsettled: int
    phantom_published: int
    stray_creations: int
    needs_review_on_network: int
    needs_review_unanswerable: int
    reconciled: int
    accept_then_drop_fired: int
    workers_killed: int
    unplanned_exits: int
    peak_publish_backlog: int
    timed_out: bool
    lost_post_ids: list[int]
    duplicated_post_ids: list[int]
    phantom_post_ids: list[int]
    needs_review_job_ids: list[int]
    events: list[ChaosEvent]
    settings: dict[str, Any]
    stuck: list[str]
    # Per network: posts, published, lost, duplicates.
    by_network: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.lost == 0 and self.duplicates == 0 and not self.timed_out

    def as_json(self) -> str:
        # No lateness to measure is NaN here, and null in JSON, which has no NaN.
        figures = {
            name: None if isinstance(value, float) and math.isnan(value) else value
            for name, value in asdict(self).items()
        }
        return json.dumps({**figures, "passed": self.passed}, indent=2, sort_keys=True)

    def markdown(self) -> str:
        rows = [
            ("posts scheduled", self.posts),
            ("jobs published", self.published),
            ("**lost** (never on its network, not marked published)", self.lost),
            ("**duplicates** (extra creations on a network)", self.duplicates),
            *[
                (f"… on {network}", _network_figures(figures))
                for network, figures in self.by_network.items()
            ],
            ("jobs needing review", self.needs_review),
            ("… whose post was on its network after all", self.needs_review_on_network),
            ("… truly unanswerable (at most: failed look-ups)", self.needs_review_unanswerable),
            ("jobs by status", _statuses(self.jobs_by_status)),
            ("posts unsettled (no job, or one not final)", self.unsettled),
            ("marked published but not on its network", self.phantom_published),
            ("creations no post asked for", self.stray_creations),
            ("lateness p50 (s)", f"{self.p50_lateness_s:.2f}"),
            ("lateness p99 (s)", f"{self.p99_lateness_s:.2f}"),
            ("lateness max (s)", f"{self.max_lateness_s:.2f}"),
            ("jobs reconciled (uncertain attempts)", self.reconciled),
            ("accept-then-drop faults fired", self.accept_then_drop_fired),
            ("workers killed", self.workers_killed),
            ("processes that died by themselves", self.unplanned_exits),
            ("publish queue peak (messages)", self.peak_publish_backlog),
            ("timed out", "yes" if self.timed_out else "no"),
            ("setup (s)", f"{self.setup_s:.2f}"),
            ("wall (s)", f"{self.wall_s:.2f}"),
        ]
        lines = ["| figure | value |", "| --- | --- |"]
        lines += [f"| {name} | {value} |" for name, value in rows]
        for label, ids in (
            ("lost posts", self.lost_post_ids),
            ("duplicated posts", self.duplicated_post_ids),
            ("phantom posts", self.phantom_post_ids),
            ("needs-review jobs", self.needs_review_job_ids),
        ):
            if ids:
                lines.append(f"\n{label} (first {EXAMPLES}): {', '.join(map(str, ids))}")
        return "\n".join(lines)

    def summary_line(self) -> str:
        return (
            f"chaos: posts={self.posts} published={self.published} lost={self.lost} "
            f"duplicates={self.duplicates} needs_review={self.needs_review} "
            f"p50_lateness_s={self.p50_lateness_s:.2f} p99_lateness_s={self.p99_lateness_s:.2f} "
            f"wall_s={self.wall_s:.2f} networks={self._networks_summary()}"
        )

    def _networks_summary(self) -> str:
        """`x[posts=3,published=3,lost=0,duplicates=0],mastodon[…]`: one token, no spaces."""
        return ",".join(
            f"{network}[{','.join(f'{name}={value}' for name, value in figures.items())}]"
            for network, figures in self.by_network.items()
        )


def report_build(observations: Observations) -> ChaosReport:
    posts = observations.posts
    jobs = observations.jobs
    creations = observations.creations
    expected = {(post.user_id, post.text) for post in posts}
    published_posts = {job.post_id for job in jobs if job.status == "published"}
    settled_posts = {job.post_id for job in jobs} - {
        job.post_id for job in jobs if job.status not in FINAL_JOB_STATUSES
    }
    on_network = {post.post_id for post in posts if creations.get((post.user_id, post.text), 0) > 0}
    accounted_for = on_network | published_posts

    lost = [p.post_id for p in posts if p.post_id in settled_posts - accounted_for]
    phantom = [
        p.post_id for p in posts if p.post_id not in on_network and p.post_id in published_posts
    ]
    duplicated = [p.post_id for p in posts if creations.get((p.user_id, p.text), 0) > 1]
    review = [job for job in jobs if job.status == "needs_review"]
    lateness = lateness_seconds(posts, observations.first_created_at)

    return ChaosReport(
        posts=len(posts),
        published=len([job for job in jobs if job.status == "published"]),
        lost=len(lost),
        duplicates=duplicate_count(creations),
        needs_review=len(review),
        p50_lateness_s=percentile(lateness, 50),
        p99_lateness_s=percentile(lateness, 99),
        max_lateness_s=max(lateness, default=math.nan),
        wall_s=observations.wall_s,
        setup_s=observations.setup_s,
        jobs_by_status=dict(sorted(Counter(job.status for job in jobs).items())),
        unsettled=len({post.post_id for post in posts} - settled_posts),
        phantom_published=len(phantom),
        stray_creations=sum(count for key, count in creations.items() if key not in expected),
        needs_review_on_network=len([job for job in review if job.post_id in on_network]),
        needs_review_unanswerable=min(len(review), observations.failed_lookups),
        reconciled=observations.reconciled_attempts,
        accept_then_drop_fired=observations.accept_then_drop_fired,
        workers_killed=observations.workers_killed,
        unplanned_exits=observations.unplanned_exits,
        peak_publish_backlog=observations.peak_publish_backlog,
        timed_out=bool(observations.stuck),
        stuck=list(observations.stuck),
        lost_post_ids=lost[:EXAMPLES],
        duplicated_post_ids=duplicated[:EXAMPLES],
        phantom_post_ids=phantom[:EXAMPLES],
        needs_review_job_ids=[job.job_id for job in review][:EXAMPLES],
        events=list(observations.events),
        settings=dict(observations.settings),
        by_network=_by_network(posts, published_posts, set(lost), creations),
    )


def _by_network(
    posts: Sequence[ScheduledPost],
    published_posts: set[int],
    lost: set[int],
    creations: Mapping[UserText, int],
) -> dict[str, dict[str, int]]:
    figures: dict[str, dict[str, int]] = {}
    for post in posts:
        counts = figures.setdefault(
            post.network, {"posts": 0, "published": 0, "lost": 0, "duplicates": 0}
        )
        counts["posts"] += 1
        counts["published"] += post.post_id in published_posts
        counts["lost"] += post.post_id in lost
        counts["duplicates"] += max(creations.get((post.user_id, post.text), 0) - 1, 0)
    return dict(sorted(figures.items()))


def _network_figures(figures: Mapping[str, int]) -> str:
    return ", ".join(f"{name} {value}" for name, value in figures.items())


# --- The figures ----------------------------------------------------------------------


def duplicate_count(creations: Mapping[UserText, int]) -> int:
    """Creations beyond the first of each (user, text): each one is a post made twice."""
    return sum(count - 1 for count in creations.values() if count > 1)


def lateness_seconds(
    posts: Iterable[ScheduledPost], first_created_at: Mapping[UserText, float]
) -> list[float]:
    """For each post that reached its network: its first creation there minus its due time."""
    return [
        first_created_at[key] - post.due
        for post in posts
        if (key := (post.user_id, post.text)) in first_created_at
    ]


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile: the smallest value with at least q% of values at or below it.

    NaN for no values, so an empty run cannot pass for a punctual one.
    """
    if not 0 < q <= 100:
        raise ValueError(f"q must be in (0, 100], not {q}")
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = math.ceil(q / 100 * len(ordered))
    return ordered[rank - 1]


def _statuses(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{status} {count}" for status, count in counts.items()) or "none"
