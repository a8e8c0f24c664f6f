import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from analytics.models import MetricsSnapshot
from publishing.models import JobStatus as S
from tests.factories import MembershipFactory, PublishJobFactory

pytestmark = pytest.mark.django_db


def test_staff_see_their_workspaces_snapshots(client):
    member = MembershipFactory()
    member.user.user_permissions.add(Permission.objects.get(codename="view_metricssnapshot"))
    client.force_login(member.user)
    ours = PublishJobFactory(post__workspace=member.workspace, status=S.PUBLISHED)
    theirs = PublishJobFactory(status=S.PUBLISHED)
    for job, likes in ((ours, 4242), (theirs, 9191)):
        MetricsSnapshot.objects.create(
            job=job, due_at=timezone.now(), collected_at=timezone.now(), likes=likes
        )

    page = client.get(reverse("admin:analytics_metricssnapshot_changelist")).content.decode()

    assert "4242" in page
    assert "9191" not in page
