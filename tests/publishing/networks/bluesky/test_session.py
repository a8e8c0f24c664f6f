"""Signing in with an app password and renewing the session, against the fake Bluesky."""

from datetime import timedelta

import pytest

from publishing.networks.base import ACCOUNT_NEEDS_REAUTH, ConnectError, ErrorKind, PublishError
from publishing.networks.bluesky import BlueskyAdapter
from publishing.networks.bluesky.session import bluesky_session_refresh, credentials_from


def connect(**values):
    return BlueskyAdapter().connect_with(values=values)


def test_signing_in_gives_the_session_and_who_signed_in(bsky):
    brand = bsky.control.create_account(handle="brand.bsky.social")
    connection = connect(
        identifier="@brand.bsky.social", app_password=brand["app_password"], pds=bsky.url
    )
    assert (connection.profile.external_id, connection.profile.handle) == (
        brand["did"],
        "brand.bsky.social",
    )
    values = connection.credentials.values
    assert (values["did"], values["pds"]) == (brand["did"], bsky.url)
    assert brand["app_password"] not in values.values()


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"status": "takendown"}, "taken this account down"),
        ({"app_password": "wrong"}, "refused the handle or app password"),
    ],
)
def test_refusals_say_what_happened(bsky, fields, words):
    brand = bsky.control.create_account(handle="brand.bsky.social")
    password = fields.pop("app_password", brand["app_password"])
    bsky.control.update_account(brand["did"], **fields)
    with pytest.raises(ConnectError, match=words):
        connect(identifier="brand.bsky.social", app_password=password, pds=bsky.url)


def test_too_many_sign_ins_say_to_wait(bsky):
    bsky.control.set_rate_limit("create_session_5min", limit=0)
    with pytest.raises(ConnectError, match="Wait a few minutes"):
        connect(identifier="brand.bsky.social", app_password="x", pds=bsky.url)


@pytest.mark.parametrize("pds", ["ftp://bsky.social", "http://127.0.0.1:1"])
def test_a_pds_that_cannot_be_reached_is_named(pds):
    with pytest.raises(ConnectError, match="address"):
        connect(identifier="brand.bsky.social", app_password="x", pds=pds)


def test_a_lapsed_refresh_jwt_sends_the_account_to_reconnecting(bsky, account, store):
    bsky.control.advance_time(timedelta(days=91).total_seconds())
    with pytest.raises(PublishError) as caught:
        bluesky_session_refresh(
            account=account, store=store, refused=account.credentials["access_jwt"]
        )
    assert caught.value.kind == ErrorKind.AUTH_EXPIRED
    assert caught.value.details[ACCOUNT_NEEDS_REAUTH] is True
    assert store.accounts[account.id].needs_reauth


def test_the_account_s_own_pds_is_kept_from_its_did_document():
    answer = {
        "accessJwt": "a.e30.s",
        "refreshJwt": "r",
        "did": "did:plc:brand",
        "didDoc": {
            "service": [
                {
                    "id": "#atproto_pds",
                    "type": "AtprotoPersonalDataServer",
                    "serviceEndpoint": "https://morel.us-east.host.bsky.network",
                }
            ]
        },
    }
    credentials = credentials_from(answer, pds="https://bsky.social")
    assert credentials.values["pds"] == "https://morel.us-east.host.bsky.network"
    assert (
        credentials_from({**answer, "didDoc": None}, pds="https://bsky.social").values["pds"]
        == "https://bsky.social"
    )
