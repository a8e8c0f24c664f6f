"""Signed, short-lived addresses of library files, which Meta's servers download."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from posts.media import media_asset_create
from posts.media_urls import media_asset_for_token, media_asset_signed_url
from publishing.stores import media_file
from tests.factories import WorkspaceFactory
from tests.media_files import image_upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.KAIROS_PUBLIC_URL = "https://kairos.example"
    settings.KAIROS_MEDIA_URL_MAX_AGE = 3600


@pytest.fixture
def asset():
    return media_asset_create(workspace=WorkspaceFactory(), file=image_upload(), actor=None)


def path_of(url):
    return url.removeprefix("https://kairos.example")


def test_anyone_holding_the_address_downloads_the_file_without_signing_in(client, asset):
    url = media_asset_signed_url(asset)

    response = client.get(path_of(url))

    assert url.startswith("https://kairos.example/library/signed/")
    assert response.status_code == 200
    assert response["Content-Type"] == asset.mime_type
    assert b"".join(response.streaming_content) == asset.file.open("rb").read()


def test_the_address_lapses(client, asset):
    with time_machine.travel(timezone.now() - timedelta(hours=2)):
        url = media_asset_signed_url(asset)

    assert client.get(path_of(url)).status_code == 404
    assert media_asset_for_token(url.rstrip("/").rsplit("/", 1)[-1]) is None


def test_an_altered_address_names_no_file(client, asset):
    url = media_asset_signed_url(asset)
    token = url.rstrip("/").rsplit("/", 1)[-1]

    assert client.get(f"/library/signed/{token[:-2]}xx/").status_code == 404
    assert media_asset_for_token(token) == asset


def test_adapters_get_the_address_with_the_file(asset):
    assert media_file(asset).url.startswith("https://kairos.example/library/signed/")
