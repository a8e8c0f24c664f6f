"""One contender in a race: run by the concurrency tests as its own process.

    python -m tests.integration.contender GO_FILE tick ROUNDS
    python -m tests.integration.contender GO_FILE execute JOB_ID…
    python -m tests.integration.contender GO_FILE cancel POST_ID…

Every contender waits for GO_FILE to exist, so all start at the same moment.
"""

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from posts.models import Post  # noqa: E402
from publishing import dispatch, execution, services  # noqa: E402


def main(go_file: str, command: str, *args: str) -> None:
    while not Path(go_file).exists():
        time.sleep(0.005)
    if command == "tick":
        for _ in range(int(args[0])):
            dispatch.tick()
    elif command == "execute":
        for job_id in args:
            execution.job_execute(job_id=int(job_id))
    elif command == "cancel":
        for post in Post.objects.filter(pk__in=[int(pk) for pk in args]):
            services.post_cancel(post=post, actor=None)
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(*sys.argv[1:])
