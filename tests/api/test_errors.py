"""Every error under /api/ is JSON in one shape (config/api_errors.py), bad bodies are
4xx, and the docs and schema work offline with the key scheme documented."""

import pytest
from django.test import Client

from tests.api.conftest import key_client
from tests.factories import WorkspaceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return key_client(WorkspaceFactory(), "read", "write")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nothing-here/",
        "/api/v1/accounts/abc/slots/",
        "/api/v2/posts/",
        "/api/v1/posts/abc/",
    ],
)
def test_unknown_paths_and_bad_ids_are_json_404(client, path):
    answer = client.get(path)
    assert answer.status_code == 404
    assert answer["Content-Type"].startswith("application/json")
    assert "detail" in answer.json()


def test_a_missing_slash_is_pointed_out(client):
    answer = client.get("/api/v1/posts")
    assert answer.status_code == 404
    assert "/api/v1/posts/" in answer.json()["detail"]


def test_deeply_nested_json_is_a_400_not_a_500(client):
    body = "[" * 100_000 + "]" * 100_000
    answer = client.post("/api/v1/posts/", body, content_type="application/json")
    assert answer.status_code == 400
    assert "nested too deeply" in answer.json()["detail"]


def test_malformed_json_is_a_400_with_a_reason(client):
    answer = client.post("/api/v1/posts/", "{not json", content_type="application/json")
    assert answer.status_code == 400
    assert "JSON parse error" in answer.json()["detail"]


def test_a_body_over_the_limit_is_a_json_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"parts": [{"text": "' + "x" * 2000 + '"}]}'
    answer = client.post("/api/v1/posts/", body, content_type="application/json")
    assert answer.status_code == 413
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in answer.json()["detail"]


def test_a_refusal_names_each_field(client):
    answer = client.post("/api/v1/posts/", {"parts": [{}], "priority": 42}, format="json")
    assert answer.status_code == 400
    assert set(answer.json()) >= {"parts", "priority"}


def test_the_docs_load_from_kairos_itself_and_the_schema_names_the_key_scheme(client):
    docs = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs
    assert "cdn" not in docs.lower()
    schema = client.get("/api/schema/?format=json").json()
    assert schema["components"]["securitySchemes"]["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`Api-Key <key>`: a workspace key made by an owner in the admin.",
    }
    create = schema["paths"]["/api/v1/posts/"]["post"]
    assert {"201", "400", "403", "404", "409", "422"} <= set(create["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])


def test_the_schema_refuses_an_unknown_language_in_json(client):
    answer = client.get("/api/schema/?lang=AAA")
    assert answer.status_code == 400
    assert answer["Content-Type"] == "application/json"
    assert "'AAA' is not a language code" in answer.json()["lang"][0]
    assert client.get("/api/schema/?lang=en-gb").status_code == 200


def test_a_post_to_no_endpoint_is_a_json_404_even_with_csrf_checks():
    answer = Client(enforce_csrf_checks=True).post("/api/v1/webhook-deliveries/0.5/send-again/")
    assert answer.status_code == 404
    assert answer["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("network", ["x", "facebook", "instagram", "linkedin"])
def test_a_connect_switched_off_documents_the_setting_it_names(client, network):
    schema = client.get("/api/schema/?format=json").json()
    refused = schema["paths"][f"/api/v1/{network}/connect/"]["post"]["responses"]["403"]
    body = refused["content"]["application/json"]["schema"]
    assert set(body["properties"]) == {"detail", "setting"}
    assert "off on this Kairos" in refused["description"]
