"""The built-in sandbox network: posts land in Kairos's own database.

It is the network of the embedded default, of demos and of dry runs. Each post
gets an id and a page served by Kairos (`/sandbox/<handle>/<id>/`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import SocialAccount
from publishing.models import SandboxPost
from publishing.networks.base import (
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


class SandboxAdapter(NetworkAdapter):
    network = SocialAccount.Network.SANDBOX
    remote = False

    def validate(self, *, account: SocialAccount, parts: tuple[PartContent, ...]) -> list[str]:
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

    def publish(
        self,
        request: PublishRequest,
        *,
        on_part_published: PartPublished,
        on_media_uploaded: MediaUploaded | None = None,
    ) -> PublishResult:
        # The sandbox keeps text only: its media stays in Kairos, nothing is uploaded.
        part_ids = list(request.published_part_ids)
        for index, part in enumerate(request.parts):
            if index < len(part_ids):
                continue
            reply_to_id = int(part_ids[-1]) if part_ids else None
            post = self._create(request, index=index, text=part.text, reply_to_id=reply_to_id)
            part_ids.append(str(post.pk))
            on_part_published(index, str(post.pk))
        return PublishResult(
            external_id=part_ids[0],
            url=self.post_url(account=request.account, external_id=part_ids[0]),
            part_ids=tuple(part_ids),
        )

    def find_part(self, request: PublishRequest, *, index: int, since) -> Lookup:
        # The sandbox honours idempotency keys, so the look-up is exact.
        post = SandboxPost.objects.filter(idempotency_key=_key(request, index)).first()
        if post is None:
            return Lookup(presence=Presence.ABSENT)
        return Lookup(presence=Presence.FOUND, external_id=str(post.pk))

    def delete(self, *, account: SocialAccount, external_id: str) -> None:
        SandboxPost.objects.filter(pk=external_id, account=account).delete()

    def post_url(self, *, account: SocialAccount, external_id: str) -> str:
        path = reverse("sandbox-post", kwargs={"handle": account.handle, "post_id": external_id})
        return f"{settings.KAIROS_PUBLIC_URL}{path}"

    @staticmethod
    def _create(request: PublishRequest, *, index: int, text: str, reply_to_id: int | None):
        # Its own transaction, as a remote network's would be: the post exists
        # whatever becomes of the job's bookkeeping afterwards.
        with transaction.atomic():
            post, _ = SandboxPost.objects.get_or_create(
                idempotency_key=_key(request, index),
                defaults={
                    "account": request.account,
                    "text": text,
                    "in_reply_to_id": reply_to_id,
                    "created_at": timezone.now(),
                },
            )
        return post


def _key(request: PublishRequest, index: int) -> str:
    return f"{request.idempotency_key}:{index}"
