"""What every API view shares (config/api_common.py): paging, filters and wall-clock times
refuse what their schema does not allow, with a 400 naming the parameter. Each was found by
the schemathesis run (tests/api/test_conformance.py)."""

import re
from datetime import UTC, datetime

import pytest
import time_machine

from posts.models import Tag
from tests.api.conftest import key_client
from tests.factories import PostFactory, PublishJobFactory, SandboxAccountFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 10, 13, 12, 0, tzinfo=UTC)


@pytest.fixture
def workspace():
    return WorkspaceFactory()


@pytest.mark.parametrize("page_size", ["null", "abc", "0", "-3", "2.5", "201", ""])
def test_a_malformed_page_size_is_a_400_naming_it(workspace, page_size):
    answer = key_client(workspace, "read").get(f"/api/v1/posts/?page_size={page_size}")
    assert answer.status_code == 400
    assert "from 1 to 200" in answer.json()["page_size"][0]


def test_a_page_size_in_range_pages(workspace):
    PostFactory.create_batch(3, workspace=workspace)
    answer = key_client(workspace, "read").get("/api/v1/posts/?page_size=2")
    assert answer.status_code == 200
    assert len(answer.json()["results"]) == 2
    assert answer.json()["next"]


def test_the_schema_states_the_page_size_range(workspace):
    schema = key_client(workspace, "read").get("/api/schema/?format=json").json()
    parameters = schema["paths"]["/api/v1/posts/"]["get"]["parameters"]
    page_size = next(p for p in parameters if p["name"] == "page_size")
    assert page_size["schema"] == {"type": "integer", "minimum": 1, "maximum": 200}


@pytest.mark.parametrize("query", ["tag=0.5", "account=abc", "priority=1.5"])
def test_an_id_filter_takes_whole_numbers_only(workspace, query):
    answer = key_client(workspace, "read").get(f"/api/v1/posts/?{query}")
    assert answer.status_code == 400
    name = query.partition("=")[0]
    assert answer.json()[name] == ["Enter a whole number."]


def test_an_id_filter_filters(workspace):
    tagged, _ = PostFactory.create_batch(2, workspace=workspace)
    tag = Tag.objects.create(workspace=workspace, name="launch")
    tagged.tags.add(tag)
    answer = key_client(workspace, "read").get(f"/api/v1/posts/?tag={tag.pk}")
    assert [post["id"] for post in answer.json()["results"]] == [tagged.pk]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/jobs/?occurrence_before=",
        "/api/v1/posts/?deleted=",
        "/api/v1/posts/?account=",
        "/api/v1/attempts/?job=",
    ],
)
def test_a_filter_sent_without_a_value_is_a_400(workspace, path):
    answer = key_client(workspace, "read").get(path)
    assert answer.status_code == 400
    name = path.rpartition("?")[2].rstrip("=")
    assert answer.json()[name] == ["Give a value, or leave this parameter out."]


@pytest.mark.parametrize("value", ["null", "yes", "1"])
def test_a_boolean_filter_takes_true_or_false_only(workspace, value):
    client = key_client(workspace, "read")
    answer = client.get(f"/api/v1/posts/?deleted={value}")
    assert answer.status_code == 400
    assert answer.json()["deleted"] == ["Send true or false."]
    assert client.get("/api/v1/posts/?deleted=false").status_code == 200


@time_machine.travel(NOW, tick=False)
def test_a_wall_time_with_an_offset_is_refused(workspace):
    account = SandboxAccountFactory(workspace=workspace)
    body = {
        "parts": [{"text": "Hello"}],
        "targets": [{"account": account.pk}],
        "schedule": {"kind": "once", "local_date": "2026-10-14", "local_time": "09:30+02:00"},
    }
    answer = key_client(workspace, "write").post("/api/v1/posts/", body, format="json")
    assert answer.status_code == 400
    assert "without an offset" in answer.json()["schedule"]["local_time"][0]


def test_wall_times_and_empty_links_are_typed_as_served(workspace):
    schema = key_client(workspace, "read").get("/api/schema/?format=json").json()["components"]
    local_time = schema["schemas"]["Schedule"]["properties"]["local_time"]
    assert "format" not in local_time
    assert re.fullmatch(local_time["pattern"], "09:30")
    assert re.fullmatch(local_time["pattern"], "9:30")
    assert not re.fullmatch(local_time["pattern"], "09:30+02:00")
    unit = schema["schemas"]["Schedule"]["properties"]["unit"]
    assert {"$ref": "#/components/schemas/BlankEnum"} in unit["oneOf"]
    assert "format" not in schema["schemas"]["Job"]["properties"]["external_url"]
    job = PublishJobFactory(post__workspace=workspace)
    listed = key_client(workspace, "read").get(f"/api/v1/jobs/{job.pk}/").json()
    assert listed["external_url"] == ""
