"""Every answer of the Graph API read into one ErrorKind (publishing/networks/graph.py), as a
table: Meta's codes and subcodes, its usage headers, and what a person is told."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import urllib3

from publishing.networks.base import ACCOUNT_NEEDS_REAUTH, ErrorKind
from publishing.networks.graph import GraphSign, answer_error, is_not_found, usage_readings

SIGN = GraphSign(label="Facebook", reconnect="Social accounts → Connect Facebook Pages")


def answer(status, *, code=None, subcode=None, message="m", transient=False, headers=None):
    error = {"message": message, "type": "OAuthException", "code": code, "is_transient": transient}
    if subcode is not None:
        error["error_subcode"] = subcode
    body = json.dumps({"error": error}).encode() if code is not None else b"<html>"
    return urllib3.HTTPResponse(
        body=body,
        status=status,
        headers=urllib3.HTTPHeaderDict(headers or {}),
        preload_content=True,
    )


@pytest.mark.parametrize(
    ("status", "code", "subcode", "kind"),
    [
        (400, 190, 463, ErrorKind.AUTH_EXPIRED),
        (400, 190, 460, ErrorKind.AUTH_EXPIRED),
        (403, 200, None, ErrorKind.FORBIDDEN),
        (400, 10, None, ErrorKind.FORBIDDEN),
        (400, 283, None, ErrorKind.FORBIDDEN),
        (400, 4, None, ErrorKind.RATE_LIMITED),
        (400, 17, None, ErrorKind.RATE_LIMITED),
        (400, 32, None, ErrorKind.RATE_LIMITED),
        (400, 613, None, ErrorKind.RATE_LIMITED),
        (400, 80001, None, ErrorKind.RATE_LIMITED),
        (400, 80002, None, ErrorKind.RATE_LIMITED),
        (400, 9, 2207042, ErrorKind.RATE_LIMITED),
        (400, 506, None, ErrorKind.DUPLICATE),
        (400, 368, None, ErrorKind.DUPLICATE),
        (400, 100, 1366051, ErrorKind.DUPLICATE),
        (400, 9007, 2207027, ErrorKind.SERVER),
        (400, 9004, 2207052, ErrorKind.SERVER),
        (400, 100, None, ErrorKind.VALIDATION),
        (500, 1, None, ErrorKind.SERVER),
        (503, 2, None, ErrorKind.SERVER),
    ],
)
def test_each_code_is_one_kind(status, code, subcode, kind):
    error = answer_error(answer(status, code=code, subcode=subcode), sign=SIGN, writes=True)

    assert error.kind is kind
    assert error.details["graph_code"] == code


def test_a_file_meta_could_not_download_is_tried_again_as_nothing_was_made():
    # Kairos's web down for a moment must not lose the post; nothing needs reconciling.
    error = answer_error(answer(400, code=9004, subcode=2207052), sign=SIGN, writes=True)

    assert error.kind is ErrorKind.SERVER and not error.maybe_accepted
    assert "KAIROS_PUBLIC_URL" in error.message


def test_an_expired_token_waits_for_reconnecting_and_says_where():
    error = answer_error(answer(400, code=190, subcode=463), sign=SIGN, writes=True)

    assert error.details[ACCOUNT_NEEDS_REAUTH]
    assert "Connect Facebook Pages" in error.message


def test_a_missing_permission_names_what_to_grant():
    error = answer_error(answer(403, code=200), sign=SIGN, writes=True, needs="pages_manage_posts")

    assert "grant Kairos pages_manage_posts" in error.message


def test_a_throttle_waits_as_long_as_the_usage_header_says():
    usage = {"42": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 37}]}
    throttled = answer(400, code=32, headers={"x-business-use-case-usage": json.dumps(usage)})

    error = answer_error(throttled, sign=SIGN, writes=True)

    wait = error.retry_at - datetime.now(UTC)
    assert timedelta(minutes=36) < wait <= timedelta(minutes=37)


def test_a_bare_429_from_a_proxy_is_rate_limited_too():
    error = answer_error(answer(429), sign=SIGN, writes=True)

    assert error.kind is ErrorKind.RATE_LIMITED and error.retry_at


def test_a_server_error_on_a_write_may_have_been_accepted_but_not_on_a_read():
    assert answer_error(answer(500, code=1), sign=SIGN, writes=True).maybe_accepted
    assert not answer_error(answer(500, code=1), sign=SIGN, writes=False).maybe_accepted
    transient = answer(400, code=123, transient=True)
    assert answer_error(transient, sign=SIGN, writes=True).kind is ErrorKind.SERVER


def test_an_object_that_does_not_exist_is_recognised():
    assert is_not_found(answer_error(answer(400, code=100, subcode=33), sign=SIGN, writes=False))
    assert not is_not_found(answer_error(answer(400, code=100), sign=SIGN, writes=False))


def test_usage_headers_become_windows_of_one_hundred():
    headers = urllib3.HTTPHeaderDict(
        {
            "x-app-usage": json.dumps({"call_count": 12, "total_time": 30, "total_cputime": 5}),
            "x-business-use-case-usage": json.dumps(
                {"42": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 9}]}
            ),
        }
    )

    app, page = usage_readings(headers, account_id=7)

    assert (app.key, app.limit, app.remaining) == ("app", 100, 70)
    assert (page.key, page.endpoint, page.remaining) == ("account:7", "pages", 0)
    assert page.resets_at - datetime.now(UTC) > timedelta(minutes=8)
