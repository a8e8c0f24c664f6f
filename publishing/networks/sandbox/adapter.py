"""The built-in sandbox network: posts land in Kairos's own database.

It is the network of the embedded default, of demos and of dry runs. Each post
gets an id and a page served by Kairos (`/sandbox/<handle>/<id>/`). The adapter
reaches those posts as any adapter reaches its network, through what its caller
provides: the store's `sandbox_posts` (publishing/stores.py keeps them as rows).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from django.conf import settings
from django.urls import reverse

from publishing.networks.base import (
    Account,
    AccountStore,
    Lookup,
    MediaUploaded,
    NetworkAdapter,
    PartContent,
    PartPublished,
    Presence,
    PublishRequest,
    PublishResult,
)

MAX_LENGTH = 5000


class SandboxPosts(Protocol):
    """The sandbox network's side: it keeps posts, and answers a repeated key with the
    post it already made, as a network that honours idempotency keys does."""

    def create(
        self, *, idempotency_key: str, account_id: int, text: str, reply_to_id: str | None
    ) -> str:
        """The id of the post made for `idempotency_key`, made now if there is none."""

    def find(self, *, idempotency_key: str) -> str | None:
        """The id of the post made for `idempotency_key`, if there is one."""

    def delete(self, *, account_id: int, post_id: str) -> None:
        """Remove the account's post; nothing happens when it is already gone."""


class SandboxAdapter(NetworkAdapter):
    network = "sandbox"
    label = "Sandbox"
    remote = False

    def validate(self, *, account: Account, parts: tuple[PartContent, ...]) -> list[str]:
        problems = []
        for number, part in enumerate(parts, start=1):
            if not part.text.strip() and not part.media:
                problems.append(f"Part {number} is empty; write some text or remove the part.")
            if len(part.text) > MAX_LENGTH:
                problems.append(
                    f"Part {number} has {len(part.text)} characters; the sandbox takes at "
                    f"most {MAX_LENGTH}. Shorten it or split it into a thread."
                )
        return problems

    def text_limit(self, *, account: Account) -> int | None:
        return MAX_LENGTH

    def publish(
        self,
        request: PublishRequest,
        *,
        store: AccountStore,
        on_part_published: PartPublished,
        on_media_uploaded: MediaUploaded | None = None,
    ) -> PublishResult:
        # The sandbox keeps text only: its media stays in Kairos, nothing is uploaded.
        part_ids = list(request.published_part_ids)
        for index, part in enumerate(request.parts):
            if index < len(part_ids):
                continue
            post_id = store.sandbox_posts.create(
                idempotency_key=_key(request, index),
                account_id=request.account.id,
                text=part.text,
                reply_to_id=part_ids[-1] if part_ids else None,
            )
            part_ids.append(post_id)
            on_part_published(index, post_id)
        return PublishResult(
            external_id=part_ids[0],
            url=self.post_url(account=request.account, external_id=part_ids[0]),
            part_ids=tuple(part_ids),
        )

    def find_part(
        self, request: PublishRequest, *, index: int, since: datetime, store: AccountStore
    ) -> Lookup:
        # The sandbox honours idempotency keys, so the look-up is exact.
        post_id = store.sandbox_posts.find(idempotency_key=_key(request, index))
        if post_id is None:
            return Lookup(presence=Presence.ABSENT)
        return Lookup(presence=Presence.FOUND, external_id=post_id)

    def delete(self, *, account: Account, external_id: str, store: AccountStore) -> None:
        store.sandbox_posts.delete(account_id=account.id, post_id=external_id)

    def post_url(self, *, account: Account, external_id: str) -> str:
        path = reverse("sandbox-post", kwargs={"handle": account.handle, "post_id": external_id})
        return f"{settings.KAIROS_PUBLIC_URL}{path}"


def _key(request: PublishRequest, index: int) -> str:
    return f"{request.idempotency_key}:{index}"
