"""One contender in a race: run by the concurrency tests as its own process.

    python -m tests.integration.contender GO_FILE tick ROUNDS
    python -m tests.integration.contender GO_FILE execute BATCH_SIZE JOB_ID…
    python -m tests.integration.contender GO_FILE cancel POST_ID…
    python -m tests.integration.contender GO_FILE edit POST_ID…

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
from publishing import approval, dispatch, execution, services  # noqa: E402


def main(go_file: str, command: str, *args: str) -> None:
    while not Path(go_file).exists():
        time.sleep(0.005)
    if command == "tick":
        for _ in range(int(args[0])):
            dispatch.tick()
    elif command == "execute":
        size, job_ids = int(args[0]), [int(job_id) for job_id in args[1:]]
        for start in range(0, len(job_ids), size):
            execution.jobs_execute(job_ids=job_ids[start : start + size])
    elif command == "cancel":
        for post in Post.objects.filter(pk__in=[int(pk) for pk in args]):
            services.post_cancel(post=post, actor=None)
    elif command == "edit":
        # An approved post's content changed: back to review (what the admin calls).
        for post in Post.objects.filter(pk__in=[int(pk) for pk in args]).select_related(
            "workspace"
        ):
            approval.post_content_edited(post=post, actor=None)
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(*sys.argv[1:])
