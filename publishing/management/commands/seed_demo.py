"""Make a demo workspace for a first look (scheduling/demo.py says what it holds).

Exit status: 0 when the demo was made or exists already (nothing is made twice),
1 when it could not be made (nothing was made).
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from analytics.demo import HISTORY_WEEKS, demo_history_seed
from publishing.demo import DemoExists, demo_plan, demo_seed, demo_workspace


class Command(BaseCommand):
    help = (
        "Create the “Kairos demo” workspace: three sandbox accounts, posts over the next two "
        "weeks, recurring schedules and a campaign. Does nothing if it exists already."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would be created; create nothing."
        )

    def handle(self, *args, dry_run: bool, **options):
        existing = demo_workspace()
        if existing is not None:
            self.stdout.write(str(DemoExists(existing)))
            return
        now = timezone.now()
        if dry_run:
            for line in demo_plan(now=now).lines():
                self.stdout.write(f"would create {line}")
            self.stdout.write(
                f"would create {HISTORY_WEEKS} weeks of past posts on each account, with "
                "simulated metrics and followers"
            )
            self.stdout.write("Dry run: nothing was created.")
            return
        try:
            workspace = demo_seed(now=now)
        except ValidationError as exc:
            raise CommandError(
                f"The demo could not be made, so nothing was: {' '.join(exc.messages)}"
            ) from exc
        except DemoExists as exc:
            self.stdout.write(str(exc))
            return
        posts = workspace.posts.count()
        history = demo_history_seed(workspace=workspace, now=now)
        self.stdout.write(
            self.style.SUCCESS(
                f"Created the workspace “{workspace.name}” with {workspace.accounts.count()} "
                f"sandbox accounts and {posts} scheduled posts; open the admin to see them. "
                f"{history} past posts with simulated metrics fill its analytics pages."
            )
        )
