"""Post import files for tests: rows (dicts by column) written as import_posts reads them."""

import tablib

from publishing.post_csv import COLUMNS


def posts_csv(rows) -> str:
    """The rows as CSV text, every column present (missing cells empty)."""
    dataset = tablib.Dataset(headers=COLUMNS)
    for row in rows:
        dataset.append([row.get(column, "") for column in COLUMNS])
    return dataset.export("csv")
