"""P1's dispatch process: `python -m bench.ticker GO_FILE RESULT_FILE`.

Runs `publishing.dispatch.tick()` back to back, as beat's ticks would follow each
other while a backlog lasts, until a tick finds nothing to do; then writes what
each tick did to RESULT_FILE as JSON. It starts (Django loaded, connections
open) before the clock does, and waits for GO_FILE to exist.
"""

import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection  # noqa: E402

from publishing.dispatch import tick  # noqa: E402

GO_TIMEOUT = 300.0
MAX_TICKS = 100_000


def main(go_file: str, result_file: str) -> None:
    connection.ensure_connection()
    print("ticker ready", flush=True)
    deadline = time.monotonic() + GO_TIMEOUT
    while not Path(go_file).exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"{go_file} did not appear within {GO_TIMEOUT}s")
        time.sleep(0.001)
    started = time.time()
    ticks = []
    for _ in range(MAX_TICKS):
        began = time.monotonic()
        result = tick()
        ticks.append({**asdict(result), "seconds": time.monotonic() - began})
        if not result:
            break
    Path(result_file).write_text(
        json.dumps({"started": started, "finished": time.time(), "ticks": ticks})
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
