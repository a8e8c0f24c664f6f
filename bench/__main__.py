"""`python -m bench [--smoke | --full] [--only P1,P3] [--keep] [--data DIR]`: run the benchmarks.

Prints a Markdown report, writes it with its JSON to bench/results/, and ends
with one line per figure (see bench/report.py for their forms).
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from bench.env import ROOT, BenchEnv
from bench.report import Report
from bench.sizes import SIZES

FIGURES = ("P1", "P2", "P3", "P4", "P5", "P6", "P7")
# Publish workers for P2 and P3 on this 2-core machine; bench/README.md says why.
DEFAULT_POOL = "prefork"
DEFAULT_CONCURRENCY = 2
DEFAULT_WORKERS = 1
DEFAULT_TICK_SECONDS = 0.25
RESULTS = ROOT / "bench" / "results"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--smoke", action="store_true", help="tiny sizes, under a minute (CI)")
    size.add_argument("--full", action="store_true", help="full sizes (P1 at 100,000; 5 min idle)")
    parser.add_argument(
        "--only", default=",".join(FIGURES), help="figures to run, e.g. P1,P3 (default: all)"
    )
    parser.add_argument(
        "--pool",
        default=DEFAULT_POOL,
        choices=["prefork", "threads", "solo"],
        help=f"publish workers' pool for P2 and P3 (default {DEFAULT_POOL})",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help=f"concurrency of each publish worker (default {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=DEFAULT_WORKERS,
        help=f"publish worker processes (default {DEFAULT_WORKERS})",
    )
    parser.add_argument(
        "--tick",
        type=float,
        default=DEFAULT_TICK_SECONDS,
        help=f"KAIROS_TICK_SECONDS for P2 and P3 (default {DEFAULT_TICK_SECONDS:g})",
    )
    parser.add_argument(
        "--tickers",
        type=int,
        default=1,
        help="P1: dispatch processes ticking at once, as several beats would (default 1)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample Kairos's processes with py-spy during each measured window "
        "(costs CPU: read the figures of such a run as approximate)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the run's temporary folder (server logs)"
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="keep PostgreSQL's cluster in this folder between runs (a short path): P6 then "
        "measures the posts a previous run of the same size loaded instead of loading them again",
    )
    arguments = parser.parse_args(argv)
    arguments.only = [name.strip().upper() for name in arguments.only.split(",") if name.strip()]
    unknown = set(arguments.only) - set(FIGURES)
    if unknown:
        parser.error(f"unknown figure(s) {', '.join(sorted(unknown))}; choose from {FIGURES}")
    arguments.mode = "smoke" if arguments.smoke else "full" if arguments.full else "quick"
    return arguments


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """SIGTERM unwinds like Ctrl-C, so every process is stopped and the folder removed."""
    raise KeyboardInterrupt


def _git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    arguments = _arguments(argv)
    sizes = SIZES[arguments.mode]
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    started = datetime.now(UTC)
    clock = time.monotonic()
    report = Report(
        mode=arguments.mode,
        started_at=started.strftime("%Y-%m-%d %H:%M:%S UTC"),
        settings={
            "commit": _git_commit(),
            "machine": f"{os.cpu_count()} cores, {platform.python_implementation()} "
            f"{platform.python_version()}, load average {os.getloadavg()[0]:.2f} at start",
            "figures": ", ".join(arguments.only),
            **asdict(sizes),
        },
    )
    with BenchEnv(keep=arguments.keep, data=arguments.data) as env:
        # Figures work with Kairos's models: import them once Django is set up.
        from bench import figures

        figures.run_all(
            env,
            sizes=sizes,
            only=arguments.only,
            profile=arguments.profile,
            pool=arguments.pool,
            concurrency=arguments.concurrency,
            workers=arguments.workers,
            tick_seconds=arguments.tick,
            tickers=arguments.tickers,
            report=report,
            log=_progress,
        )
    report.settings["wall_s"] = round(time.monotonic() - clock, 1)
    path = report.write(RESULTS, started.strftime("%Y%m%dT%H%M%SZ"))
    print(report.markdown())
    print()
    print(f"results: {path} (and {path.with_suffix('.md').name})")
    for line in report.lines():
        print(line)
    return 0


def _progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
