"""Connecting a network account to a workspace: who may, the sign-in's state, and keeping it.

Two ways in, as the network allows: a sign-in on the network's site that sends the
person back (`social_account_connect_start` / `_finish`, X), or a form of the fields
the network names (`social_account_connect_with`, Bluesky's handle and app password).
The network's side of either (its sign-in address, the code exchange, the sign-in
from the form's values, who signed in) is its adapter's, reached through the
registry; the rules Kairos adds (only staff who may add accounts to that workspace,
a `state` that is this person's live sign-in, the account stored with its
credentials encrypted) are here, for the admin's views and the API alike.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied

from accounts.models import SocialAccount, Workspace
from accounts.permissions import ACCOUNT_MANAGE, member_may, workspaces_where
from accounts.services import oauth_state_issue, oauth_state_redeem, social_account_connect
from publishing.networks import adapter_for
from publishing.networks.base import ConnectError, Connection
from publishing.stores import DatabaseAppRegistry


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
    connection = adapter.connect_finish(
        code=code,
        verifier=sign_in.code_verifier,
        **(_apps(network) if adapter.asks_server else {}),
    )
    return _connection_keep(user=user, workspace=workspace, network=network, connection=connection)


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
