"""One chaos run, from empty folder to report: set the scene, unleash the chaos, count.

The driver is a plain Python program that is also a Django process: it points
its environment at the run's private database and calls `django.setup()`, so
it can write the scene and read the outcome with Kairos's own models.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import django

from chaos.cluster import LEASES, Cluster
from chaos.monkey import Monkey, Timeline
from chaos.networks import NETWORKS, accept_then_drop_fired
from chaos.report import ChaosReport, Observations, report_build

BEATS = 2
# After the last post is due, how long the run waits for Kairos to settle: two
# rounds of recovery (a running lease is 50 s here), plus a backlog drained at 10
# posts a second, a pace that even a busy two-core machine keeps.
SETTLE_SECONDS = 120.0
SETTLE_SECONDS_PER_POST = 0.1


@dataclass(frozen=True)
class RunOptions:
    posts: int
    workers: int
    concurrency: int
    seed: int
    folder: Path
    # Names from chaos.networks.NETWORKS; accounts are dealt round them in this order.
    networks: tuple[str, ...] = tuple(NETWORKS)


def chaos_run(options: RunOptions) -> ChaosReport:
    started = time.monotonic()
    with Cluster(
        options.folder,
        workers=options.workers,
        concurrency=options.concurrency,
        beats=BEATS,
        networks=[NETWORKS[name] for name in options.networks],
    ) as cluster:
        print(f"chaos: {options.posts} posts; servers and logs in {options.folder}", flush=True)
        cluster.servers_start()
        os.environ.update(cluster.kairos_env())
        django.setup()
        cluster.migrate()
        # These work with Kairos's models, which exist only after django.setup().
        from chaos import scene, watch

        for running in cluster.networks:
            running.network.prepare(running.control, seed=options.seed)
        accounts = scene.accounts_connect(cluster.networks)
        posts = scene.posts_schedule(
            accounts=accounts,
            count=options.posts,
            with_photo={r.network.name for r in cluster.networks if r.network.downloads_media},
        )
        setup_s = time.monotonic() - started
        print(f"chaos: set up in {setup_s:.1f} s; starting workers and beats", flush=True)

        timeline = Timeline()
        cluster.kairos_start()
        first_due, last_due = (_on_timeline(post.due, timeline) for post in (posts[0], posts[-1]))
        timeline.note(f"processes ready; posts fall due from {first_due:.0f} s to {last_due:.0f} s")
        monkey = Monkey(cluster, timeline, seed=options.seed, until=last_due)
        settle_by = last_due + SETTLE_SECONDS + SETTLE_SECONDS_PER_POST * options.posts
        settled = watch.settle(cluster, monkey, timeline, deadline=settle_by)

        cluster.kairos_stop()
        timeline.note("stopped Kairos's processes; counting")
        watch.connection_renew()
        stats = [running.network.stats_read(running.control) for running in cluster.networks]
        observations = Observations(
            posts=posts,
            jobs=watch.jobs_read(),
            creations=_merged(entry.creations for entry in stats),
            first_created_at=_merged(entry.first_created_at for entry in stats),
            reconciled_attempts=watch.reconciled_attempts_count(),
            accept_then_drop_fired=sum(
                accept_then_drop_fired(fake.control) for fake in cluster.fakes
            ),
            failed_lookups=sum(entry.failed_lookups for entry in stats),
            workers_killed=monkey.workers_killed,
            unplanned_exits=monkey.unplanned_exits,
            peak_publish_backlog=settled.peak_publish_backlog,
            events=timeline.events,
            setup_s=setup_s,
            wall_s=time.monotonic() - started,
            settings={
                **asdict(options),
                "folder": str(options.folder),
                "networks": list(options.networks),
                "beats": BEATS,
                "accounts": len(accounts),
                **LEASES,
            },
            stuck=settled.stuck,
        )
    return report_build(observations)


def _merged(readings: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """One network's keys never meet another's: each names its network (chaos.networks)."""
    merged: dict[str, Any] = {}
    for reading in readings:
        merged.update(reading)
    return merged


def _on_timeline(instant: float, timeline: Timeline) -> float:
    """An epoch instant as seconds since the Kairos processes started."""
    return timeline.elapsed() + instant - time.time()
