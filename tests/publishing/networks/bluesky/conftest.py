import pytest

from publishing.networks.base import Account
from publishing.networks.bluesky.session import credentials_from
from tests.networks import MemoryStore


def signed_in(bsky, handle="brand.bsky.social", **fields):
    """Credentials as Kairos keeps them after connecting, for an account of the fake."""
    user = bsky.control.create_signed_in_account(handle=handle, **fields)
    credentials = credentials_from(
        {"accessJwt": user.access_jwt, "refreshJwt": user.refresh_jwt, "did": user.did},
        pds=bsky.url,
    )
    return user, credentials


@pytest.fixture
def account(bsky):
    """A Bluesky account of the fake, signed in, as an adapter sees it."""
    user, credentials = signed_in(bsky)
    return Account(
        id=1,
        network="bluesky",
        handle=user.handle,
        external_id=user.did,
        name=f"@{user.handle} (Bluesky)",
        credentials=dict(credentials.values),
        token_expires_at=credentials.expires_at,
    )


@pytest.fixture
def store(account):
    return MemoryStore(account)
