"""Bluesky (AT Protocol): publish posts and threads with their images, delete them, find
them again for reconciliation, read their numbers and the account's profile.

Exactly once rests on the record key. Bluesky lets the client name a record (its
`rkey`), so each part of a job is created at a key derived from the job's idempotency
key and the part's index (`part_rkey`): a repeat of the same part cannot make a second
post, because the key is taken, and whether a part is on Bluesky is one exact
`getRecord` away: found or absent is certain.

What Bluesky's answers mean is decided in client.py; what it accepts, in validation.py;
links and mentions, in richtext.py; the session, in session.py. This module says what
to ask.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from publishing.networks.base import (
    Account,
    AccountStore,
    ConnectField,
    Connection,
    ErrorKind,
    Lookup,
    MediaUploaded,
    MetricsReading,
    NetworkAdapter,
    PartContent,
    PartPublished,
    PostMetrics,
    Presence,
    Profile,
    PublishError,
    PublishRequest,
    PublishResult,
)
from publishing.networks.bluesky.client import XRPC_ERROR, BlueskyClient
from publishing.networks.bluesky.media import bluesky_embed
from publishing.networks.bluesky.richtext import facets, graphemes, handles
from publishing.networks.bluesky.session import (
    REFRESH_BEFORE,
    bluesky_access_jwt,
    bluesky_session_create,
)
from publishing.networks.bluesky.validation import MAX_GRAPHEMES, bluesky_content_problems

POST = "app.bsky.feed.post"
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
# A part's record key is a TID (the key type of app.bsky.feed.post): 53 bits of
# microseconds and 10 bits of clock id. Ours carry a time inside 2023, picked by the
# job's key: a TID's time is not trusted by anyone (atproto's record-key spec), but
# one in the future might be, and 2023 is safely past for every repo.
TID_TIME_START = 1_672_531_200 * 1_000_000  # 2023-01-01T00:00:00Z
TID_TIME_SPAN = 365 * 24 * 60 * 60 * 1_000_000
# getPosts takes at most this many posts a call.
METRICS_BATCH = 25


class BlueskyAdapter(NetworkAdapter):
    network = "bluesky"
    label = "Bluesky"
    has_metrics = True
    has_profile = True
    refresh_before = REFRESH_BEFORE

    def __init__(self) -> None:
        self.client = BlueskyClient()

    # --- The interface ------------------------------------------------------------

    def validate(self, *, account: Account, parts: tuple[PartContent, ...]) -> list[str]:
        return bluesky_content_problems(account=account, parts=parts)

    def text_length(self, *, account: Account, text: str) -> int:
        return graphemes(text)

    def text_limit(self, *, account: Account) -> int | None:
        return MAX_GRAPHEMES

    def publish(
        self,
        request: PublishRequest,
        *,
        store: AccountStore,
        on_part_published: PartPublished,
        on_media_uploaded: MediaUploaded | None = None,
    ) -> PublishResult:
        account = request.account
        part_ids = list(request.published_part_ids)
        remaining = list(enumerate(request.parts))[len(part_ids) :]
        # Every file and mention of the remaining parts is settled before the first of
        # them is posted, so a file or a look-up that fails stops the thread before it
        # starts, not halfway.
        embeds = {
            index: bluesky_embed(client=self.client, account=account, store=store, media=part.media)
            for index, part in remaining
        }
        dids = self._dids(
            set().union(*(handles(part.text) for _, part in remaining)), account, store
        )
        root = parent = None
        if part_ids:
            root = self._ref(account, part_ids[0], store)
            parent = root if len(part_ids) == 1 else self._ref(account, part_ids[-1], store)
        for index, part in remaining:
            record: dict[str, Any] = {
                "$type": POST,
                "text": part.text,
                "createdAt": _now(),
            }
            if part_facets := facets(part.text, dids=dids):
                record["facets"] = part_facets
            if embeds[index]:
                record["embed"] = embeds[index]
            if root is not None:
                record["reply"] = {"root": root, "parent": parent}
            rkey = part_rkey(request.idempotency_key, index)
            parent = self._create(account, rkey, record, store)
            root = root or parent
            part_ids.append(rkey)
            on_part_published(index, rkey)
        return PublishResult(
            external_id=part_ids[0],
            url=self.post_url(account=account, external_id=part_ids[0]),
            part_ids=tuple(part_ids),
        )

    def delete(self, *, account: Account, external_id: str, store: AccountStore) -> None:
        # Bluesky answers 200 whether or not the record was there.
        self.client.call(
            "POST",
            "com.atproto.repo.deleteRecord",
            account=account,
            store=store,
            endpoint="delete",
            json={"repo": account.external_id, "collection": POST, "rkey": external_id},
        )

    def find_part(
        self, request: PublishRequest, *, index: int, since: datetime, store: AccountStore
    ) -> Lookup:
        """One getRecord at the part's own key: the record is ours if it is there."""
        rkey = part_rkey(request.idempotency_key, index)
        try:
            self._record(request.account, rkey, store)
        except _RecordNotFound:
            return Lookup(presence=Presence.ABSENT)
        except PublishError as error:
            return Lookup(presence=Presence.UNKNOWN, reason=f"Bluesky answered: {error.message}")
        return Lookup(presence=Presence.FOUND, external_id=rkey)

    def post_url(self, *, account: Account, external_id: str) -> str:
        # The DID rather than the handle: a handle can change, the DID cannot.
        return f"{settings.BLUESKY_WEB_URL}/profile/{account.external_id}/post/{external_id}"

    def credentials_fresh(self, *, account: Account, store: AccountStore) -> None:
        bluesky_access_jwt(account=account, store=store)

    def metrics_fetch(
        self, *, account: Account, external_ids: Sequence[str], store: AccountStore
    ) -> MetricsReading:
        """Bluesky counts likes, reposts, replies, quotes and bookmarks; no impressions.

        The AppView leaves out of its answer a post it does not show, which may be one
        it has not indexed yet: a post is gone only when the account's PDS no longer has
        its record either."""
        metrics = {}
        for start in range(0, len(external_ids), METRICS_BATCH):
            batch = external_ids[start : start + METRICS_BATCH]
            answer = self.client.read(
                "app.bsky.feed.getPosts",
                account=account,
                store=store,
                endpoint="metrics",
                params={"uris": [_uri(account, rkey) for rkey in batch]},
            )
            for post in answer.get("posts", []):
                metrics[post["uri"].rsplit("/", 1)[-1]] = PostMetrics(
                    likes=post.get("likeCount"),
                    reposts=post.get("repostCount"),
                    replies=post.get("replyCount"),
                    quotes=post.get("quoteCount"),
                    bookmarks=post.get("bookmarkCount"),
                    raw={key: value for key, value in post.items() if key.endswith("Count")},
                )
        missing = [rkey for rkey in external_ids if rkey not in metrics]
        return MetricsReading(
            metrics=metrics,
            gone=frozenset(rkey for rkey in missing if self._gone(account, rkey, store)),
        )

    def profile_fetch(self, *, account: Account, store: AccountStore) -> Profile:
        answer = self.client.read(
            "app.bsky.actor.getProfile",
            account=account,
            store=store,
            endpoint="profile",
            params={"actor": account.external_id},
        )
        return Profile(
            external_id=answer["did"],
            handle=answer["handle"],
            display_name=answer.get("displayName", ""),
            avatar_url=answer.get("avatar", ""),
            followers_count=answer.get("followersCount"),
        )

    @property
    def connect_fields(self) -> tuple[ConnectField, ...]:
        return (
            ConnectField(
                name="identifier",
                label="Handle",
                help_text="The account's handle, as brand.bsky.social (or its email).",
            ),
            ConnectField(
                name="app_password",
                label="App password",
                secret=True,
                help_text="Make one in Bluesky: Settings → Privacy and security → App "
                "passwords. Kairos signs in with it once and does not keep it.",
            ),
            ConnectField(
                name="pds",
                label="Hosting provider",
                initial=settings.BLUESKY_PDS_URL,
                help_text="Leave as it is unless the account lives on its own server (PDS).",
            ),
        )

    def connect_with(self, *, values: Mapping[str, str]) -> Connection:
        return bluesky_session_create(
            pds=values.get("pds", ""),
            identifier=values.get("identifier", ""),
            app_password=values.get("app_password", ""),
        )

    # --- Steps --------------------------------------------------------------------

    def _create(self, account: Account, rkey: str, record: dict, store: AccountStore) -> dict:
        """Create the part at its key; its strong reference (uri and cid) for replies.

        When the answer is lost or is a 5xx, the key says what happened: a record there
        is ours (made by this request, or by an earlier attempt whose answer was lost),
        and the PDS answers a create at a taken key with a 500 today (atproto issue
        3718). Absent, or unknowable, the error stands and the job is reconciled.
        """
        body = {"repo": account.external_id, "collection": POST, "rkey": rkey, "record": record}
        try:
            answer = self.client.call(
                "POST", "com.atproto.repo.createRecord", account=account, store=store, json=body
            )
        except PublishError as error:
            if not error.maybe_accepted:
                raise
            try:
                return self._ref(account, rkey, store)
            except PublishError:
                raise error from None
        return {"uri": answer["uri"], "cid": answer["cid"]}

    def _ref(self, account: Account, rkey: str, store: AccountStore) -> dict:
        answer = self._record(account, rkey, store)
        return {"uri": answer["uri"], "cid": answer["cid"]}

    def _record(self, account: Account, rkey: str, store: AccountStore) -> dict:
        try:
            return self.client.call(
                "GET",
                "com.atproto.repo.getRecord",
                account=account,
                store=store,
                endpoint="lookup",
                params={"repo": account.external_id, "collection": POST, "rkey": rkey},
            )
        except PublishError as error:
            if error.details.get(XRPC_ERROR) == "RecordNotFound":
                raise _RecordNotFound(kind=ErrorKind.UNKNOWN, message=error.message) from None
            raise

    def _gone(self, account: Account, rkey: str, store: AccountStore) -> bool:
        try:
            self._record(account, rkey, store)
        except _RecordNotFound:
            return True
        except PublishError:
            return False
        return False

    def _dids(self, wanted: set[str], account: Account, store: AccountStore) -> dict[str, str]:
        """The DID of each mentioned handle; a handle that does not resolve is left out
        and stays plain text, as in Bluesky's own app."""
        dids = {}
        for handle in sorted(wanted):
            try:
                answer = self.client.read(
                    "com.atproto.identity.resolveHandle",
                    account=account,
                    store=store,
                    endpoint="resolve",
                    params={"handle": handle},
                )
            except PublishError as error:
                if error.kind is ErrorKind.VALIDATION:
                    continue
                raise
            dids[handle] = answer["did"]
        return dids


class _RecordNotFound(PublishError):
    """getRecord's RecordNotFound: the part is surely not on Bluesky."""


def part_rkey(idempotency_key: str, index: int) -> str:
    """The record key of part `index` of a job: a valid TID, the same on every attempt."""
    digest = hashlib.sha256(f"{idempotency_key}:{index}".encode()).digest()
    micros = TID_TIME_START + int.from_bytes(digest[:8], "big") % TID_TIME_SPAN
    clock_id = int.from_bytes(digest[8:10], "big") & 0x3FF
    value = (micros << 10) | clock_id
    return "".join(TID_ALPHABET[(value >> (5 * shift)) & 31] for shift in range(12, -1, -1))


def _uri(account: Account, rkey: str) -> str:
    return f"at://{account.external_id}/{POST}/{rkey}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
