"""What adapters are given: accounts and files as plain data, and the database as their store.

Adapters know nothing of Kairos's models (publishing/networks/base.py). This module
turns rows into what they take (`account_snapshot`, `media_file`) and keeps what
they report while they work (`DatabaseStore`): rate-limit readings, renewed
credentials, billing problems, and the sandbox network's posts.

Locking rule (`DatabaseStore.credentials_renew`): a renewal holds the account's row
(SELECT … FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transactions hold the
database's write lock instead) and reads the credentials again once it is held, so
of several workers needing fresh credentials at once exactly one asks the network
and the others find its result. The transaction is durable: a renewed sign-in is
committed the moment the network issued it, never rolled back with some outer work.
The credential-key rotation (accounts.services) takes the same row lock.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from functools import partial

from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from accounts.crypto import CredentialsUnreadable
from accounts.models import SocialAccount
from accounts.services import (
    network_app_keep,
    network_app_keys,
    social_account_billing_flag,
    social_account_credentials,
    social_account_credentials_save,
    social_account_needs_reauth,
)
from posts.media_urls import media_asset_signed_url
from posts.models import MediaAsset
from publishing import metrics
from publishing.models import SandboxPost
from publishing.networks.base import (
    Account,
    AppKeys,
    Credentials,
    CredentialsRefused,
    MediaFile,
    MediaKind,
    WindowReading,
)
from publishing.ratelimits import rate_limits_record


def account_snapshot(account: SocialAccount) -> Account:
    """The account as an adapter sees it, with its credentials decrypted."""
    try:
        credentials, problem = social_account_credentials(account=account), ""
    except CredentialsUnreadable as exc:
        credentials, problem = {}, str(exc)
    return Account(
        id=account.pk,
        network=account.network,
        handle=account.handle,
        external_id=account.external_id,
        name=str(account),
        subscription_type=account.subscription_type,
        credentials=credentials,
        credentials_problem=problem,
        token_expires_at=account.token_expires_at,
        needs_reauth=account.status == SocialAccount.Status.NEEDS_REAUTH,
    )


def media_file(asset: MediaAsset) -> MediaFile:
    """A media asset as an adapter sees it: its metadata, and how to read its bytes."""
    return MediaFile(
        asset_id=asset.pk,
        kind=MediaKind(asset.kind),
        mime_type=asset.mime_type,
        size_bytes=asset.size_bytes,
        name=str(asset),
        alt_text=asset.alt_text,
        width=asset.width,
        height=asset.height,
        duration_ms=asset.duration_ms,
        url=media_asset_signed_url(asset),
        open=partial(_file_open, asset.file),
    )


def _file_open(file: FieldFile) -> FieldFile:
    return file.open("rb")


class DatabaseStore:
    """Where adapters save what they report, for accounts of one network."""

    def __init__(self, *, network: str) -> None:
        self.network = network

    def rate_limits_record(self, readings: Iterable[WindowReading]) -> None:
        rate_limits_record(network=self.network, readings=readings, now=timezone.now())

    def credentials_renew(
        self, *, account: Account, renew: Callable[[Account], Credentials | None]
    ) -> Account:
        refused: CredentialsRefused | None = None
        with transaction.atomic(durable=True):
            locked = (
                SocialAccount.objects.select_for_update(of=("self",))
                .select_related("workspace")
                .get(pk=account.id)
            )
            current = account_snapshot(locked)
            try:
                credentials = renew(current)
            except CredentialsRefused as refusal:
                social_account_needs_reauth(account=locked, reason=str(refusal))
                refused = refusal
            else:
                if credentials is not None:
                    social_account_credentials_save(
                        account=locked,
                        credentials=dict(credentials.values),
                        expires_at=credentials.expires_at,
                    )
                    current = account_snapshot(locked)
                    metrics.token_refreshes_observe(network=self.network, count=1)
        if refused is not None:
            # Raised after the commit: marking the account for reconnecting must stick.
            raise refused
        return current

    def billing_problem(self, *, account: Account, message: str) -> None:
        social_account_billing_flag(
            account=SocialAccount.objects.select_related("workspace").get(pk=account.id),
            message=message,
        )

    @property
    def sandbox_posts(self) -> SandboxPostsInDatabase:
        return SandboxPostsInDatabase()


class SandboxPostsInDatabase:
    """The sandbox network's posts, as rows (publishing.networks.sandbox.SandboxPosts)."""

    def create(
        self, *, idempotency_key: str, account_id: int, text: str, reply_to_id: str | None
    ) -> str:
        # Its own transaction, as a remote network's would be: the post exists
        # whatever becomes of the job's bookkeeping afterwards.
        with transaction.atomic():
            post, _ = SandboxPost.objects.get_or_create(
                idempotency_key=idempotency_key,
                defaults={
                    "account_id": account_id,
                    "text": text,
                    "in_reply_to_id": int(reply_to_id) if reply_to_id else None,
                    "created_at": timezone.now(),
                },
            )
        return str(post.pk)

    def find(self, *, idempotency_key: str) -> str | None:
        post_id = (
            SandboxPost.objects.filter(idempotency_key=idempotency_key)
            .values_list("pk", flat=True)
            .first()
        )
        return None if post_id is None else str(post_id)

    def delete(self, *, account_id: int, post_id: str) -> None:
        SandboxPost.objects.filter(pk=post_id, account_id=account_id).delete()

    def created_at(self, *, account_id: int, post_ids: Collection[str]) -> dict[str, datetime]:
        ids = [int(post_id) for post_id in post_ids if post_id.isdigit()]
        return {
            str(pk): created_at
            for pk, created_at in SandboxPost.objects.filter(
                account_id=account_id, pk__in=ids
            ).values_list("pk", "created_at")
        }


class DatabaseAppRegistry:
    """Kairos's apps on the servers of one network, as rows (accounts.NetworkApp)."""

    def __init__(self, *, network: str) -> None:
        self.network = network

    def app_keys(self, *, server: str, register: Callable[[], AppKeys]) -> AppKeys:
        kept = network_app_keys(network=self.network, server=server)
        if kept is None:
            # Registered outside any transaction: the server's answer is kept whatever
            # happens next, so a retry does not register again.
            registered = register()
            kept = network_app_keep(
                network=self.network,
                server=server,
                client_id=registered.client_id,
                client_secret=registered.client_secret,
            )
        return AppKeys(client_id=kept[0], client_secret=kept[1])
