"""Connecting a network account to a workspace: who may, the sign-in's state, and keeping it.

Two ways in, as the network allows: a sign-in on the network's site that sends the
person back (`social_account_connect_start` / `_finish`, X), or a form of the fields
the network names (`social_account_connect_with`, Bluesky's handle and app password).
A sign-in may bring several accounts (the Pages a person manages on Facebook, the
Instagram accounts linked to them): `_offer` keeps them for the person to choose
from, and `_chosen` connects those chosen.
The network's side of either (its sign-in address, the code exchange, the sign-in
from the form's values, who signed in) is its adapter's, reached through the
registry; the rules Kairos adds (only staff who may add accounts to that workspace,
a `state` that is this person's live sign-in, the account stored with its
credentials encrypted) are here, for the admin's views and the API alike.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import PermissionDenied

from accounts.crypto import credentials_decrypt, credentials_encrypt
from accounts.models import SocialAccount, Workspace
from accounts.permissions import ACCOUNT_MANAGE, member_may, workspaces_where
from accounts.services import (
    OAuthSignIn,
    oauth_state_issue,
    oauth_state_redeem,
    social_account_connect,
)
from publishing.networks import adapter_for
from publishing.networks.base import (
    ConnectError,
    Connection,
    Credentials,
    NetworkAdapter,
    Profile,
)
from publishing.stores import DatabaseAppRegistry

# How long the accounts a sign-in offers wait for the person to choose (as the sign-in's
# own state): their credentials sit encrypted in the cache meanwhile, and no longer.
CHOICE_LIFETIME = timedelta(minutes=10)
_OFFER_SALT = "kairos.publishing.connect-offer"
_AGAIN = "Start connecting the account again from the social accounts page."


def social_account_connect_start(
    *, user: AbstractBaseUser, workspace: Workspace, network: str, server: str = ""
) -> str:
    """The network's address where the person signs in and allows Kairos; the sign-in is
    remembered for 10 minutes, for this person only (accounts.services). `server` is
    where the account lives, for a network that asks (a Mastodon instance)."""
    _may_add_accounts(user=user, workspace=workspace)
    adapter = adapter_for(network)
    return adapter.connect_start(
        state_for=lambda verifier: oauth_state_issue(
            network=network, user=user, workspace=workspace, code_verifier=verifier
        ),
        **({"server": server, **_apps(network)} if adapter.asks_server else {}),
    )


def social_account_connect_finish(
    *, user: AbstractBaseUser, network: str, state: str, code: str, error: str = ""
) -> SocialAccount:
    """Finish a sign-in the network sent back to the callback: the account, stored or updated.

    Raises OAuthStateRefused for a state that is not this person's live sign-in, and
    ConnectError when the network refused or failed.
    """
    adapter, sign_in, workspace = _sign_in_back(
        user=user, network=network, state=state, error=error
    )
    connection = adapter.connect_finish(
        code=code,
        verifier=sign_in.code_verifier,
        **(_apps(network) if adapter.asks_server else {}),
    )
    return _connection_keep(user=user, workspace=workspace, network=network, connection=connection)


def social_account_connect_offer(
    *, user: AbstractBaseUser, network: str, state: str, code: str, error: str = ""
) -> str:
    """Finish a sign-in that brings several accounts to choose from (`offers_choices`: a
    person's Facebook Pages): they are kept for CHOICE_LIFETIME, encrypted and for this
    person only, until `social_account_connect_chosen`. Returns the key naming the offer.

    Raises OAuthStateRefused for a state that is not this person's live sign-in, and
    ConnectError when the network refused or failed.
    """
    adapter, sign_in, workspace = _sign_in_back(
        user=user, network=network, state=state, error=error
    )
    connections = adapter.connect_choices(code=code, verifier=sign_in.code_verifier)
    nonce = secrets.token_urlsafe(32)
    offered = [_connection_json(connection) for connection in connections]
    cache.set(
        _offer_key(nonce),
        {
            "user_id": user.pk,
            "workspace_id": workspace.pk,
            "network": network,
            "connections": credentials_encrypt({"offered": offered}),
        },
        timeout=CHOICE_LIFETIME.total_seconds(),
    )
    return signing.TimestampSigner(salt=_OFFER_SALT).sign(nonce)


@dataclass(frozen=True)
class Offer:
    """Accounts a sign-in may connect, waiting for the person to choose."""

    network: str
    workspace: Workspace
    profiles: tuple[Profile, ...]


def social_account_connect_offered(*, user: AbstractBaseUser, network: str, offer: str) -> Offer:
    """What the offer holds, for the page where the person chooses. Raises ConnectError."""
    kept = _offer_read(user=user, network=network, offer=offer)
    return Offer(
        network=network,
        workspace=kept["workspace"],
        profiles=tuple(connection.profile for connection in kept["connections"]),
    )


def social_account_connect_chosen(
    *, user: AbstractBaseUser, network: str, offer: str, external_ids: Collection[str]
) -> list[SocialAccount]:
    """Connect the chosen accounts of an offer (once: the offer is spent), each stored with
    its own credentials, encrypted. Raises ConnectError."""
    kept = _offer_read(user=user, network=network, offer=offer)
    chosen = [c for c in kept["connections"] if c.profile.external_id in set(external_ids)]
    if not chosen:
        raise ConnectError("Choose at least one account to connect.")
    if not cache.delete(kept["key"]):
        raise ConnectError(f"These accounts were already connected. {_AGAIN}")
    return [
        _connection_keep(user=user, workspace=kept["workspace"], network=network, connection=c)
        for c in chosen
    ]


def _sign_in_back(
    *, user: AbstractBaseUser, network: str, state: str, error: str
) -> tuple[NetworkAdapter, OAuthSignIn, Workspace]:
    """The adapter, the sign-in the state names, and its workspace, when the person may
    still add accounts there; raises OAuthStateRefused or ConnectError."""
    adapter = adapter_for(network)
    sign_in = oauth_state_redeem(state=state, network=network, user=user)
    if error:
        raise ConnectError(
            f"{adapter.label} did not let Kairos in ({error}), so nothing was connected. "
            f"Connect the account again and allow Kairos on {adapter.label}."
        )
    workspace = workspaces_where(user=user, action=ACCOUNT_MANAGE).filter(pk=sign_in.workspace_id)
    workspace = workspace.first()
    if workspace is None:
        raise ConnectError("The workspace this sign-in was for is no longer yours to change.")
    return adapter, sign_in, workspace


def _offer_read(*, user: AbstractBaseUser, network: str, offer: str) -> dict[str, Any]:
    try:
        nonce = signing.TimestampSigner(salt=_OFFER_SALT).unsign(offer, max_age=CHOICE_LIFETIME)
    except signing.BadSignature:
        raise ConnectError(
            f"This choice of accounts has expired or was altered. {_AGAIN}"
        ) from None
    key = _offer_key(nonce)
    kept = cache.get(key)
    if kept is None or kept["user_id"] != user.pk or kept["network"] != network:
        raise ConnectError(f"This choice of accounts is not yours, or was used. {_AGAIN}")
    workspace = (
        workspaces_where(user=user, action=ACCOUNT_MANAGE).filter(pk=kept["workspace_id"]).first()
    )
    if workspace is None:
        raise ConnectError("The workspace this sign-in was for is no longer yours to change.")
    offered = credentials_decrypt(kept["connections"])["offered"]
    return {
        "key": key,
        "workspace": workspace,
        "connections": [_connection_from_json(item) for item in offered],
    }


def _offer_key(nonce: str) -> str:
    return f"connect-offer:{nonce}"


def _connection_json(connection: Connection) -> dict[str, Any]:
    expires_at = connection.credentials.expires_at
    return {
        "credentials": dict(connection.credentials.values),
        "expires_at": expires_at.isoformat() if expires_at else None,
        "profile": asdict(connection.profile),
    }


def _connection_from_json(item: dict[str, Any]) -> Connection:
    expires_at = item["expires_at"]
    return Connection(
        credentials=Credentials(
            values=item["credentials"],
            expires_at=datetime.fromisoformat(expires_at) if expires_at else None,
        ),
        profile=Profile(**item["profile"]),
    )


def social_account_connect_with(
    *, user: AbstractBaseUser, workspace: Workspace, network: str, values: Mapping[str, str]
) -> SocialAccount:
    """Connect an account from the values of the network's `connect_fields`: the account,
    stored or updated. What the person typed is handed to the adapter and not kept;
    only the credentials the network gives back are (encrypted).

    Raises PermissionDenied for someone who may not add accounts to the workspace, and
    ConnectError when the network refused or failed.
    """
    _may_add_accounts(user=user, workspace=workspace)
    adapter = adapter_for(network)
    if not adapter.connect_fields:
        raise ConnectError(f"{adapter.label} accounts are not connected from a form.")
    connection = adapter.connect_with(values=values)
    return _connection_keep(user=user, workspace=workspace, network=network, connection=connection)


def _may_add_accounts(*, user: AbstractBaseUser, workspace: Workspace) -> None:
    if not member_may(user=user, workspace=workspace, action=ACCOUNT_MANAGE):
        raise PermissionDenied(f"You may not add social accounts to {workspace}.")


def _connection_keep(
    *, user: AbstractBaseUser, workspace: Workspace, network: str, connection: Connection
) -> SocialAccount:
    profile = connection.profile
    return social_account_connect(
        workspace=workspace,
        network=network,
        external_id=profile.external_id,
        handle=profile.handle,
        credentials=dict(connection.credentials.values),
        expires_at=connection.credentials.expires_at,
        display_name=profile.display_name,
        avatar_url=profile.avatar_url,
        followers_count=profile.followers_count,
        subscription_type=profile.subscription_type,
        actor=user,
    )


def _apps(network: str) -> dict[str, DatabaseAppRegistry]:
    """What an adapter that asks for a server also takes: Kairos's apps on its servers."""
    return {"apps": DatabaseAppRegistry(network=network)}
