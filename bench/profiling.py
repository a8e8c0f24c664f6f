"""Sampling profiles of Kairos's processes during a figure's measured window (`--profile`).

py-spy attaches to a running process (and its prefork children) and samples its
Python stacks without changing its code; it writes collapsed stacks, one line
per distinct stack (`frame;frame;… count`), which `profile_summary` turns into
the functions where the time went.
"""

from __future__ import annotations

import re
import shutil
import signal
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness import ManagedProcess

SAMPLES_PER_S = 100
# The code a profile is read for: Kairos's own apps.
OURS = re.compile(r"\((?:accounts|posts|scheduling|publishing|analytics)/")
_FRAME_LINE = re.compile(r":\d+\)$")


@contextmanager
def sampled(pid: int, output: Path, *, enabled: bool = True) -> Iterator[Path | None]:
    """Sample `pid` and its children until the block ends; yield where the stacks go."""
    if not enabled:
        yield None
        return
    py_spy = shutil.which("py-spy") or str(Path(__file__).resolve().parents[1] / ".venv/bin/py-spy")
    recorder = ManagedProcess(
        [
            py_spy,
            "record",
            f"--pid={pid}",
            "--subprocesses",
            "--nonblocking",
            f"--rate={SAMPLES_PER_S}",
            "--format=raw",
            f"--output={output}",
        ],
        log_path=output.with_suffix(".log"),
        # py-spy writes what it sampled when interrupted.
        stop_signal=signal.SIGINT,
    )
    with recorder:
        recorder.wait_for_log(r"Sampling process", timeout=30)
        yield output


@dataclass(frozen=True)
class ProfileLine:
    function: str
    inclusive: float  # share of samples with the function anywhere on the stack
    own: float  # share of samples with the function on top


def _function(frame: str) -> str:
    """`name (path:line)` without the line, so a function's lines count as one."""
    return _FRAME_LINE.sub(")", frame.strip())


def profile_summary(
    lines: Iterable[str], *, top: int = 25, only: re.Pattern[str] | None = None
) -> tuple[int, list[ProfileLine]]:
    """Total samples, and the functions with most time on the stack, from collapsed stacks.

    `only` keeps the functions it matches in the ranking (the total counts every
    sample). Idle samples (a process waiting for work) count too: read the shares
    as parts of the time sampled, not of the CPU used.
    """
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        functions = [_function(frame) for frame in stack.split(";")]
        for function in set(functions):
            inclusive[function] += samples
        own[functions[-1]] += samples
    if not total:
        return 0, []
    candidates = [name for name in inclusive if only is None or only.search(name)]
    ranked = sorted(candidates, key=lambda name: (-inclusive[name], name))[:top]
    return total, [ProfileLine(name, inclusive[name] / total, own[name] / total) for name in ranked]


def profile_text(path: Path, *, title: str, top: int = 25) -> str:
    """A Markdown section: the busiest of Kairos's functions, then the busiest leaves."""
    lines = path.read_text().splitlines() if path.exists() else []
    total, ranked = profile_summary(lines, top=top, only=OURS)
    _, every = profile_summary(lines, top=100_000)
    by_own = sorted(every, key=lambda line: -line.own)[:15]
    out = [f"### Profile: {title}", "", f"{total} samples at {SAMPLES_PER_S}/s.", ""]
    out += ["Kairos's functions, by share of samples with them on the stack:", "", "```"]
    out += [f"{line.inclusive:6.1%} {line.function}" for line in ranked]
    out += ["```", "", "Where the time is spent (own time, any code):", "", "```"]
    out += [f"{line.own:6.1%} {line.function}" for line in by_own]
    out += ["```"]
    return "\n".join(out)
