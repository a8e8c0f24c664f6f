"""Write posts as CSV in the format `import_posts` reads (publishing/post_csv.py).

Exit status: 0 written; 1 nothing to export from (an unknown workspace or user).
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from accounts.models import Workspace
from accounts.permissions import WORKSPACE_VIEW, workspaces_where
from publishing.post_csv import posts_for_export
from publishing.post_resource import PostResource


class Command(BaseCommand):
    help = (
        "Export posts (not deleted ones) as CSV in the format import_posts reads: text, "
        "accounts, schedule, tags, campaign, priority. Media and per-account texts are "
        "not carried."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", "-o", default="-", help="File to write (default: standard output)."
        )
        parser.add_argument(
            "--workspace",
            action="append",
            default=[],
            help="Slug of a workspace to export (repeat for several). Default: all.",
        )
        parser.add_argument(
            "--user", help="Export only what this user may see. Default: as the operator."
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="No progress bar (for logs and cron)."
        )

    def handle(self, *args, output: str, workspace: list[str], user, no_progress, **options):
        workspaces = Workspace.objects.all()
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"No user “{user}”.")
            workspaces = workspaces_where(user=actor, action=WORKSPACE_VIEW)
        if workspace:
            unknown = set(workspace) - set(
                workspaces.filter(slug__in=workspace).values_list("slug", flat=True)
            )
            if unknown:
                raise CommandError(f"No workspace {', '.join(sorted(unknown))} found.")
            workspaces = workspaces.filter(slug__in=workspace)
        posts = posts_for_export(workspaces=workspaces)
        bar = tqdm(
            total=posts.count(), desc="posts", unit="post", file=sys.stderr, disable=no_progress
        )
        with bar:
            dataset = PostResource().export(queryset=_counted(posts, bar))
        text = dataset.export("csv")
        if output == "-":
            self.stdout.write(text, ending="")
        else:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"Wrote {len(dataset)} posts to {output}.")


def _counted(posts, bar):
    for post in posts:
        yield post
        bar.update()
