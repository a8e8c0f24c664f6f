"""The post table (publishing/post_csv.py) for django-import-export: one resource that
`import_posts`, `export_posts` and the admin's Import and Export buttons share.

Importing only creates: each row becomes a new post through `post_row_import`, in a
savepoint of its own, so a refused row leaves nothing of itself behind. Whether the
good rows stay when another row is refused is the caller's choice
(`rollback_on_validation_errors` of `import_data`); the commands and the admin
default to all or nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from django.core.exceptions import NON_FIELD_ERRORS
from django.db.models import QuerySet
from import_export import resources
from import_export.fields import Field
from import_export.results import Result

from accounts.models import Workspace
from posts.models import Post
from publishing.post_csv import COLUMNS, post_row_export, post_row_import, post_row_parse


class PostResource(resources.ModelResource):
    # Columns, not model fields: post_row_parse reads them, post_row_export writes them.
    workspace = Field(column_name="workspace")
    accounts = Field(column_name="accounts")
    text = Field(column_name="text")
    variants = Field(column_name="variants")
    date = Field(column_name="date")
    time = Field(column_name="time")
    timezone = Field(column_name="timezone")
    repeat = Field(column_name="repeat")
    every = Field(column_name="every")
    unit = Field(column_name="unit")
    cron = Field(column_name="cron")
    rrule = Field(column_name="rrule")
    tags = Field(column_name="tags")
    campaign = Field(column_name="campaign")
    priority = Field(column_name="priority")

    class Meta:
        model = Post
        fields = COLUMNS
        import_id_fields = ()
        skip_diff = True
        clean_model_instances = False
        use_transactions = True

    def __init__(
        self,
        *,
        actor=None,
        workspaces: QuerySet[Workspace] | None = None,
        now: datetime | None = None,
        on_row: Callable[[], None] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.actor = actor
        self.workspaces = Workspace.objects.all() if workspaces is None else workspaces
        self.now = now
        self.on_row = on_row

    def before_import(self, dataset, **kwargs):
        unknown = [name for name in dataset.headers or () if name not in COLUMNS]
        missing = [name for name in ("workspace", "text") if name not in (dataset.headers or ())]
        if unknown or missing:
            raise ValueError(
                " ".join(
                    [
                        *([f"Unknown columns: {', '.join(unknown)}."] if unknown else []),
                        *([f"Missing columns: {', '.join(missing)}."] if missing else []),
                        f"The columns are: {', '.join(COLUMNS)}.",
                    ]
                )
            )

    def get_or_init_instance(self, instance_loader, row):
        return Post(), True

    def import_instance(self, instance, row, **kwargs):
        """Nothing to copy onto the instance: save_instance makes the post from the row."""

    def save_instance(self, instance, is_create, row, **kwargs):
        post = post_row_import(
            row=post_row_parse(row), actor=self.actor, workspaces=self.workspaces, now=self.now
        )
        instance.pk = post.pk

    def save_m2m(self, instance, row, **kwargs):
        """Tags and accounts were set by post_row_import."""

    def after_import_row(self, row, row_result, **kwargs):
        if self.on_row is not None:
            self.on_row()

    def export_resource(self, instance, selected_fields=None, **kwargs):
        row = post_row_export(instance)
        return [row[field.column_name] for field in self.get_export_fields(selected_fields)]


def import_errors(result: Result) -> Iterable[str]:
    """Every refusal of an import, one line each, naming the row as a spreadsheet shows
    it (the header is row 1) and the column."""
    for invalid in result.invalid_rows:
        for column, messages in invalid.error_dict.items():
            where = "" if column == NON_FIELD_ERRORS else f", column {column}"
            for message in messages:
                yield f"row {invalid.number + 1}{where}: {message}"
    for number, errors in result.row_errors():
        for error in errors:
            yield f"row {number + 1}: {error.error}"
    for error in result.base_errors:
        yield f"the file: {error.error}"
