from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from accounts.models import SocialAccount, Workspace
from posts.models import Post
from publishing.demo import DEMO_SLUG, DemoExists, demo_plan, demo_seed
from scheduling.models import Schedule

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _seed_demo(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_the_demo_has_accounts_posts_over_two_weeks_recurring_schedules_and_a_campaign():
    workspace = demo_seed(now=NOW)

    assert workspace.slug == DEMO_SLUG
    assert workspace.accounts.filter(network=SocialAccount.Network.SANDBOX).count() == 3
    schedules = Schedule.objects.filter(post__workspace=workspace)
    assert schedules.count() == Post.objects.filter(workspace=workspace).count() == 13
    assert {s.kind for s in schedules} == set(Schedule.Kind.values)
    assert all(s.status == Schedule.Status.ACTIVE for s in schedules)
    nexts = [s.next_occurrence_at for s in schedules]
    assert min(nexts) > NOW and max(nexts) < datetime(2026, 4, 4, tzinfo=UTC)
    campaign = workspace.campaigns.get()
    assert campaign.posts.count() == 4
    assert campaign.posts.filter(status=Post.Status.SCHEDULED).count() == 4


def test_seeding_twice_makes_nothing_the_second_time():
    demo_seed(now=NOW)

    with pytest.raises(DemoExists, match="exists already"):
        demo_seed(now=NOW)
    out = _seed_demo()

    assert "exists already" in out
    assert Workspace.objects.filter(slug=DEMO_SLUG).count() == 1
    assert Post.objects.count() == 13


def test_dry_run_says_what_it_would_create_and_creates_nothing():
    out = _seed_demo("--dry-run")

    assert out.splitlines() == [
        *(f"would create {line}" for line in demo_plan(now=NOW).lines()),
        "would create 8 weeks of past posts on each account, with simulated metrics and followers",
        "Dry run: nothing was created.",
    ]
    assert "would create sandbox account @kairos_tips" in out
    assert not Workspace.objects.exists()


def test_the_command_reports_what_it_made():
    out = _seed_demo()

    assert "Created the workspace “Kairos demo” with 3 sandbox accounts and 13" in out
    assert "336 past posts with simulated metrics" in out
