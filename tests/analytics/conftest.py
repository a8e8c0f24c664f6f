import pytest

from tests.factories import MembershipFactory


@pytest.fixture
def member(client):
    """An owner of a workspace in Paris, signed in to the admin and the API."""
    membership = MembershipFactory(workspace__default_timezone="Europe/Paris")
    client.force_login(membership.user)
    return membership
