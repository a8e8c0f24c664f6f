"""Run the chaos: N posts through crashes and faults; count the lost and the doubled.

`python -m chaos --posts N [--keep] [--json PATH]` prints a Markdown report and
saves it as JSON next to the logs and at PATH. The last line printed is the
summary, always in this shape: `chaos: posts=N published=P lost=L duplicates=D
needs_review=R p50_lateness_s=X p99_lateness_s=Y wall_s=W`.

Exit status: 0 when nothing was lost or doubled, 1 when something was (or
Kairos never settled), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from types import FrameType

from chaos.cluster import ROOT
from chaos.networks import NETWORKS
from chaos.report import ChaosReport
from chaos.run import RunOptions, chaos_run

DEFAULT_JSON = ROOT / "var" / "chaos" / "last.json"


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    # The harness stops its processes at interpreter exit, which a plain SIGTERM
    # skips; as an exception it unwinds through every cleanup instead.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    # Short: PostgreSQL's socket lives in here, and its path may not exceed 107 bytes.
    folder = Path(tempfile.mkdtemp(prefix="chaos-"))
    try:
        report = chaos_run(
            RunOptions(
                posts=arguments.posts,
                workers=arguments.workers,
                concurrency=arguments.concurrency,
                seed=arguments.seed,
                folder=folder,
                networks=tuple(arguments.networks),
            )
        )
        _report_save(report, folder / "report.json", arguments.json)
    except KeyboardInterrupt:
        print("chaos: interrupted; every process was stopped", file=sys.stderr)
        return 130
    finally:
        _folder_dispose(folder, keep=arguments.keep)
    print(report.markdown())
    print(f"\nreport: {arguments.json}")
    print(report.summary_line())
    return 0 if report.passed else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=_positive, default=10_000, help="how many posts (N)")
    parser.add_argument("--keep", action="store_true", help="keep the folder of logs and data")
    parser.add_argument(
        "--json",
        type=Path,
        default=DEFAULT_JSON,
        help=f"where to save the report too ({DEFAULT_JSON})",
    )
    parser.add_argument("--workers", type=_positive, default=2, help="Celery worker processes")
    # Tasks mostly wait on PostgreSQL and the fake X, so a pool twice the size of a
    # two-core machine keeps both cores busy.
    parser.add_argument(
        "--concurrency", type=_positive, default=4, help="pool processes per worker"
    )
    parser.add_argument("--seed", type=int, default=1, help="seeds the faults and the kills")
    parser.add_argument(
        "--networks",
        nargs="+",
        choices=list(NETWORKS),
        default=list(NETWORKS),
        help="the networks accounts are dealt round (default: all of them)",
    )
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _report_save(report: ChaosReport, *paths: Path) -> None:
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(report.as_json() + "\n")


def _folder_dispose(folder: Path, *, keep: bool) -> None:
    if keep:
        print(f"chaos: logs, data and report kept in {folder}", flush=True)
    else:
        shutil.rmtree(folder, ignore_errors=True)


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
