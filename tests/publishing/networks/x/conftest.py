import pytest

from accounts.services import social_account_connect
from tests.factories import WorkspaceFactory


@pytest.fixture
def account(x):
    """An X account connected to a user of the fake X, with a token that works."""
    user = x.control.create_connected_user(username="kairos_brand")
    return social_account_connect(
        network="x",
        workspace=WorkspaceFactory(),
        external_id=user.id,
        handle="kairos_brand",
        credentials={"access_token": user.access_token},
    )
