"""Make posts from a CSV file (the format of publishing/post_csv.py and
docs/import-example.csv), through the composer's services.

Exit status: 0 every row imported (or, with --dry-run, would be); 1 some row was
refused (nothing stored, unless --partial); 2 the file could not be read.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import tablib
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from import_export.results import RowResult
from tablib.exceptions import InvalidDimensions
from tqdm import tqdm

from accounts.permissions import POST_COMPOSE, workspaces_where
from publishing.post_csv import post_row_parse
from publishing.post_resource import PostResource, import_errors


class Command(BaseCommand):
    help = (
        "Import posts from a CSV file (columns: workspace, accounts, text, variants, date, "
        "time, timezone, repeat, every, unit, cron, rrule, tags, campaign, priority; see "
        "docs/import-example.csv). Each row is checked as the composer checks a post. All "
        "or nothing unless --partial; errors name the row and the column."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV file (UTF-8, a header row); - for stdin.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check every row and print what would be created; store nothing.",
        )
        parser.add_argument(
            "--partial",
            action="store_true",
            help="Store the rows that pass even when others are refused.",
        )
        parser.add_argument(
            "--user",
            help="Import as this user (author and audit actor), only into workspaces where "
            "they may compose. Default: as the operator, into any workspace.",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="No progress bar (for logs and cron)."
        )

    def handle(self, *args, file: str, dry_run: bool, partial: bool, user, no_progress, **options):
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8-sig")
            dataset = tablib.Dataset().load(text, format="csv")
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise CommandError(f"Could not read {file}: {exc}", returncode=2) from exc
        except InvalidDimensions as exc:
            raise CommandError(
                f"Could not read {file}: a row has more cells than the header has columns "
                "(a cell with a comma needs double quotes).",
                returncode=2,
            ) from exc
        actor, workspaces = None, None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"No user “{user}”.")
            workspaces = workspaces_where(user=actor, action=POST_COMPOSE)
        with tqdm(
            total=len(dataset), desc="rows", unit="row", file=sys.stderr, disable=no_progress
        ) as bar:
            resource = PostResource(
                actor=actor, workspaces=workspaces, now=timezone.now(), on_row=bar.update
            )
            result = resource.import_data(
                dataset,
                dry_run=dry_run,
                use_transactions=True,
                rollback_on_validation_errors=not partial,
                retain_instance_in_row_result=True,
            )
        errors = list(import_errors(result))
        # A row that failed with an exception (not a refusal) rolls the whole import back.
        stored = not (dry_run or result.has_errors()) and (
            partial or not result.has_validation_errors()
        )
        verb = "created" if stored else "would create"
        rows = zip(dataset.dict, result.rows, strict=True)
        for number, (values, row) in enumerate(rows, start=2):
            if row.import_type == RowResult.IMPORT_TYPE_NEW:
                self.stdout.write(f"row {number}: {verb} {post_row_parse(values).describe()}")
        for line in errors:
            self.stderr.write(line)
        created = result.totals[RowResult.IMPORT_TYPE_NEW]
        if dry_run:
            self.stdout.write(f"Dry run: {created} posts would be created; nothing was stored.")
        elif stored:
            self.stdout.write(self.style.SUCCESS(f"Imported {created} posts."))
        else:
            self.stdout.write(
                f"{len(errors)} errors; nothing was stored. Fix the rows and import again "
                "(or --partial to store the rows that pass)."
            )
        if errors:
            raise CommandError("Some rows were refused (above).", returncode=1)
