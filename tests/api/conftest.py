import pytest
from rest_framework.test import APIClient

from accounts.keys import api_key_create
from tests.factories import MembershipFactory


def key_client(workspace, *scopes: str) -> APIClient:
    """An API client carrying a new key of `workspace` with `scopes`."""
    owner = MembershipFactory(workspace=workspace).user
    _, secret = api_key_create(workspace=workspace, name="integration", scopes=scopes, actor=owner)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return client


@pytest.fixture
def owner():
    return MembershipFactory()
