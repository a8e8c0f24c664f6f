import pytest

from publishing.execution import job_execute
from publishing.models import SandboxPost
from tests.factories import PostFactory, PublishJobFactory, SandboxAccountFactory

pytestmark = pytest.mark.django_db


def test_a_published_sandbox_thread_has_a_page_a_person_can_open(client):
    account = SandboxAccountFactory(handle="brand", display_name="The Brand")
    post = PostFactory(workspace=account.workspace, texts=["First <b>part</b>", "Second part"])
    job = PublishJobFactory(post=post, account=account, status="queued")
    job_execute(job_id=job.pk)
    job.refresh_from_db()
    second = SandboxPost.objects.get(pk=job.part_external_ids[1])
    response = client.get(f"/sandbox/brand/{second.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "The Brand" in page
    assert "First &lt;b&gt;part&lt;/b&gt;" in page
    assert page.index("First") < page.index("Second part")
    assert f"reply to {job.external_id}" in page


def test_a_post_of_another_handle_is_not_found(client):
    account = SandboxAccountFactory(handle="brand")
    job = PublishJobFactory(account=account, status="queued")
    job_execute(job_id=job.pk)
    job.refresh_from_db()
    assert client.get(f"/sandbox/other/{job.external_id}/").status_code == 404


def test_health_answers_ok(client):
    assert client.get("/healthz").json() == {"status": "ok"}
