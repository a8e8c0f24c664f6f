"""Suggested times where posts are planned: the composer's read-only hint and the
"add to queue" action's message."""

from datetime import UTC, datetime, time

import pytest
import time_machine
from django.urls import reverse

from scheduling.models import QueueSlot
from tests.factories import PostFactory, SandboxAccountFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)


@pytest.fixture
def account(member):
    account = SandboxAccountFactory(workspace=member.workspace, handle="kairos_tips")
    QueueSlot.objects.create(account=account, weekday=QueueSlot.Weekday.FRIDAY, local_time=time(8))
    return account


@time_machine.travel(NOW, tick=False)
def test_the_composer_shows_each_accounts_suggested_times(client, member, account):
    post = PostFactory(workspace=member.workspace, accounts=[account])
    page = client.get(reverse("admin:posts_post_change", args=[post.pk])).content.decode()
    assert "Suggested times" in page
    assert "@kairos_tips: too little history; queue slots Fri 08:00 Europe/Paris" in page


@time_machine.travel(NOW, tick=False)
def test_add_to_queue_says_the_suggested_times(client, member, account):
    post = PostFactory(workspace=member.workspace, accounts=[account])
    response = client.post(
        reverse("admin:posts_post_changelist"),
        {"action": "add_to_queue", "_selected_action": [post.pk]},
        follow=True,
    )
    html = response.content.decode()
    assert "queued for Fri 05 Jun 08:00" in html
    assert "Suggested times: @kairos_tips: too little history; queue slots Fri 08:00" in html
