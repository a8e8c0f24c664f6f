"""Runs the figures asked for, in order, on one set of servers; import after `django.setup()`."""

from __future__ import annotations

from collections.abc import Callable

from bench import (
    p1_dispatch,
    p2_throughput,
    p3_lateness,
    p4_idle,
    p5_api,
    p6_pages,
    p7_analytics,
)
from bench.cluster import WorkerShape, publishing_cluster
from bench.env import BenchEnv
from bench.report import Report
from bench.scene import accounts_connect, fake_x_prepare
from bench.sizes import Sizes
from fakex.control import FakeXControl


def run_all(
    env: BenchEnv,
    *,
    sizes: Sizes,
    only: list[str],
    profile: bool,
    pool: str,
    concurrency: int,
    workers: int,
    tick_seconds: float,
    tickers: int,
    report: Report,
    log: Callable[[str], None],
) -> None:
    control = FakeXControl(env.fake_x_url)
    fake_x_prepare(control)
    log(f"connecting {sizes.accounts} X accounts on the fake X")
    accounts = accounts_connect(control, count=sizes.accounts)
    if "P1" in only:
        log(f"P1: dispatching {sizes.p1_jobs} due jobs, then the baseline")
        report.figures.append(
            p1_dispatch.run(
                env,
                accounts=accounts,
                count=sizes.p1_jobs,
                baseline_count=sizes.baseline_jobs,
                baseline_timebox=sizes.baseline_timebox_s,
                timeout=max(120.0, sizes.p1_jobs / 100),
                profile=profile,
                tickers=tickers,
            )
        )
    if "P2" in only or "P3" in only:
        shape = WorkerShape(pool=pool, concurrency=concurrency, workers=workers)
        with publishing_cluster(env, shape=shape, tick_seconds=tick_seconds) as cluster:
            if "P2" in only:
                runs = []
                for latency_ms in sizes.p2_latencies_ms:
                    log(f"P2: {sizes.p2_posts} posts due at once, fake X latency {latency_ms} ms")
                    runs.append(
                        p2_throughput.publish_burst(
                            control=control,
                            accounts=accounts,
                            cluster=cluster,
                            count=sizes.p2_posts,
                            latency_ms=latency_ms,
                            timeout=max(120.0, sizes.p2_posts / 20),
                            profile_into=env.folder / f"p2-{latency_ms}.txt" if profile else None,
                        )
                    )
                report.figures.append(
                    p2_throughput.figure(runs, shape=shape, tick_seconds=tick_seconds)
                )
            if "P3" in only:
                log(f"P3: {sizes.p3_rate_per_s} due posts a second for {sizes.p3_seconds} s")
                report.figures.append(
                    p3_lateness.run(
                        control=control,
                        accounts=accounts,
                        cluster=cluster,
                        rate_per_s=sizes.p3_rate_per_s,
                        seconds=sizes.p3_seconds,
                        shape=shape,
                        tick_seconds=tick_seconds,
                    )
                )
    if "P4" in only:
        log(
            f"P4: {sizes.p4_schedules} future schedules, idle tick, "
            f"{sizes.p4_idle_s:g} s idle for memory"
        )
        report.figures.append(
            p4_idle.run(
                env,
                account=accounts[0],
                schedules=sizes.p4_schedules,
                history_jobs=sizes.p4_history_jobs,
                idle_seconds=sizes.p4_idle_s,
            )
        )
    if "P5" in only:
        log(f"P5: {sizes.p5_posts} posts; a filtered page of the posts API, deep in the list")
        report.figures.append(
            p5_api.run(accounts=accounts, posts=sizes.p5_posts, requests=sizes.p5_requests)
        )
    if "P6" in only:
        log(f"P6: {sizes.p6_posts} posts; the post list, the dashboard and a calendar month")
        report.figures.append(p6_pages.run(posts=sizes.p6_posts, reuse=env.data is not None))
    if "P7" in only:
        log(f"P7: {sizes.p7_posts} published posts, {sizes.p7_snapshots} snapshots, stats timed")
        report.figures.append(
            p7_analytics.run(
                accounts=accounts,
                posts=sizes.p7_posts,
                snapshots=sizes.p7_snapshots,
                reuse=env.data is not None,
            )
        )
