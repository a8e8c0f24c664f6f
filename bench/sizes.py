"""How big each figure runs in a smoke, quick or full run."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    accounts: int
    p1_jobs: int
    baseline_jobs: int
    baseline_timebox_s: float
    p2_posts: int
    p2_latencies_ms: tuple[int, ...]
    p3_rate_per_s: int
    p3_seconds: int
    p4_schedules: int
    p4_history_jobs: int
    p4_idle_s: float
    p5_posts: int
    p5_requests: int
    p6_posts: int
    p7_posts: int
    p7_snapshots: int


SIZES = {
    # Completes in under a minute, for CI: it shows every figure still runs, not how fast.
    "smoke": Sizes(
        accounts=10,
        p1_jobs=300,
        baseline_jobs=50,
        baseline_timebox_s=5,
        p2_posts=100,
        p2_latencies_ms=(0, 50),
        p3_rate_per_s=10,
        p3_seconds=3,
        p4_schedules=5_000,
        p4_history_jobs=5_000,
        p4_idle_s=1,
        p5_posts=2_000,
        p5_requests=20,
        p6_posts=2_000,
        p7_posts=2_000,
        p7_snapshots=20_000,
    ),
    "quick": Sizes(
        accounts=100,
        p1_jobs=10_000,
        baseline_jobs=10_000,
        baseline_timebox_s=30,
        p2_posts=1_000,
        p2_latencies_ms=(0, 50),
        p3_rate_per_s=100,
        p3_seconds=30,
        p4_schedules=1_000_000,
        p4_history_jobs=100_000,
        p4_idle_s=20,
        p5_posts=20_000,
        p5_requests=100,
        p6_posts=200_000,
        p7_posts=20_000,
        p7_snapshots=400_000,
    ),
    "full": Sizes(
        accounts=200,
        p1_jobs=100_000,
        baseline_jobs=100_000,
        baseline_timebox_s=600,
        p2_posts=10_000,
        p2_latencies_ms=(0, 50),
        p3_rate_per_s=100,
        p3_seconds=60,
        p4_schedules=1_000_000,
        p4_history_jobs=1_000_000,
        p4_idle_s=300,
        p5_posts=100_000,
        p5_requests=100,
        p6_posts=1_000_000,
        p7_posts=100_000,
        p7_snapshots=2_000_000,
    ),
}
