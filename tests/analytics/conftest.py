import pytest

from tests.factories import MembershipFactory


@pytest.fixture(autouse=True)
def no_jitter(settings):
    """Metrics read at their plan's moments exactly, on every network; a test that shows
    the spread (test_services.py's test_reads_are_spread_by_job) sets it again."""
    settings.KAIROS_METRICS_JITTER_SECONDS = 0


@pytest.fixture
def member(client):
    """An owner of a workspace in Paris, signed in to the admin and the API."""
    membership = MembershipFactory(workspace__default_timezone="Europe/Paris")
    client.force_login(membership.user)
    return membership
