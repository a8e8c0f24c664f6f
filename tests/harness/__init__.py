import os
from pathlib import Path


def is_running(pid: int) -> bool:
    """Whether `pid` is a live process.

    A zombie is not: it holds nothing but its pid while it waits for its parent,
    or for init once orphaned, to reap it.
    """
    try:
        os.kill(pid, 0)
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (ProcessLookupError, FileNotFoundError):
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    return state != "Z"
