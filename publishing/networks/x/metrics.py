"""A post's numbers from X: GET /2/tweets, up to 100 posts a call, one token per account.

X answers 200 even when it leaves something out, listing why in `errors[]`:

* `not-authorized-for-field`: the private groups (non-public, organic) are only for
  the account's own posts of the last 30 days. A post that came back without them
  keeps its public numbers; one left out entirely is asked again for public ones.
* `resource-not-found`: the post is gone (deleted on X); nothing more will come.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from publishing.networks.base import Account, AccountStore, MetricsReading, PostMetrics
from publishing.networks.x.client import XClient

MAX_IDS_PER_CALL = 100
PUBLIC_FIELDS = "public_metrics"
ALL_FIELDS = "public_metrics,non_public_metrics,organic_metrics"


def x_metrics_fetch(
    *, client: XClient, account: Account, store: AccountStore, external_ids: Sequence[str]
) -> MetricsReading:
    """The numbers of the account's posts `external_ids`. Raises `PublishError`."""
    calls = {"client": client, "account": account, "store": store}
    token = client.token(account, store)
    metrics: dict[str, PostMetrics] = {}
    gone: set[str] = set()
    for start in range(0, len(external_ids), MAX_IDS_PER_CALL):
        ids = external_ids[start : start + MAX_IDS_PER_CALL]
        posts, refused, missing = _lookup(**calls, token=token, ids=ids, fields=ALL_FIELDS)
        left_out = [post_id for post_id in refused if post_id not in posts]
        if left_out:
            again, _, also_missing = _lookup(
                **calls, token=token, ids=left_out, fields=PUBLIC_FIELDS
            )
            posts.update(again)
            missing |= also_missing
        metrics.update({post_id: _post_metrics(post) for post_id, post in posts.items()})
        gone |= missing
    return MetricsReading(metrics=metrics, gone=frozenset(gone))


def _lookup(
    *,
    client: XClient,
    account: Account,
    store: AccountStore,
    token: str,
    ids: Sequence[str],
    fields: str,
) -> tuple[dict[str, dict], set[str], set[str]]:
    """(posts by id, ids with a field refused, ids X does not have)."""
    answer = client.call(
        "GET",
        "/2/tweets",
        token=token,
        account=account,
        store=store,
        endpoint="lookup",
        params={"ids": ",".join(ids), "tweet.fields": fields},
    )
    refused, missing = set(), set()
    for error in answer.get("errors", []):
        post_id = str(error.get("resource_id") or error.get("value") or "")
        problem = _problem_name(error)
        if problem == "not-authorized-for-field":
            refused.add(post_id)
        elif problem == "resource-not-found":
            missing.add(post_id)
    return {post["id"]: post for post in answer.get("data", [])}, refused, missing


def _problem_name(error: dict[str, Any]) -> str:
    # By the suffix: X sends both api.twitter.com and api.x.com problem hosts.
    return str(error.get("type", "")).rsplit("/problems/", 1)[-1]


def _post_metrics(post: dict[str, Any]) -> PostMetrics:
    public = post.get("public_metrics", {})
    private = post.get("non_public_metrics", {})
    return PostMetrics(
        impressions=public.get("impression_count", private.get("impression_count")),
        likes=public.get("like_count"),
        reposts=public.get("retweet_count"),
        replies=public.get("reply_count"),
        quotes=public.get("quote_count"),
        bookmarks=public.get("bookmark_count"),
        link_clicks=private.get("url_link_clicks"),
        profile_clicks=private.get("user_profile_clicks"),
        engagements=private.get("engagements"),
        raw={name: value for name, value in post.items() if name.endswith("_metrics")},
    )
