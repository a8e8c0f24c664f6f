"""A post's numbers from Mastodon: GET /api/v1/statuses?id[]=… (Mastodon 4.3+), a page of
ids a call.

A status the instance leaves out of the answer is gone (deleted, or the account
with it). Mastodon counts favourites, boosts, replies and quotes; it has no
impressions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from publishing.networks.base import Account, AccountStore, MetricsReading, PostMetrics
from publishing.networks.mastodon.client import MastodonClient

# Mastodon's default page size, which the batch look-up also takes as its most ids [inf].
MAX_IDS_PER_CALL = 20
COUNTS = ("replies_count", "reblogs_count", "favourites_count", "quotes_count")


def mastodon_metrics_fetch(
    *, client: MastodonClient, account: Account, store: AccountStore, external_ids: Sequence[str]
) -> MetricsReading:
    """The numbers of the account's statuses `external_ids`. Raises `PublishError`."""
    metrics: dict[str, PostMetrics] = {}
    for start in range(0, len(external_ids), MAX_IDS_PER_CALL):
        ids = list(external_ids[start : start + MAX_IDS_PER_CALL])
        statuses = client.call(
            "GET",
            "/api/v1/statuses",
            account=account,
            store=store,
            endpoint="lookup",
            scope="read:statuses",
            params={"id[]": ids},
        )
        metrics.update({status["id"]: _post_metrics(status) for status in statuses})
    return MetricsReading(metrics=metrics, gone=frozenset(set(external_ids) - set(metrics)))


def _post_metrics(status: dict[str, Any]) -> PostMetrics:
    return PostMetrics(
        likes=status.get("favourites_count"),
        reposts=status.get("reblogs_count"),
        replies=status.get("replies_count"),
        quotes=status.get("quotes_count"),
        raw={name: status[name] for name in COUNTS if name in status},
    )
