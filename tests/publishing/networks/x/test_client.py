"""The X client's transport against the fake X over real HTTP: what a call that got no
answer means for the post, and that each request is sent exactly once."""

import socket
import time

import pytest
import urllib3

from publishing.networks.base import ErrorKind, PublishError
from publishing.networks.x.client import XClient, _answer_error, pool_for
from tests.networks import adapter_args

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_port():
    """A local port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post(client, account, text="Hello"):
    snapshot, store = adapter_args(account)
    return client.call(
        "POST",
        "/2/tweets",
        token=XClient.token(snapshot, store),
        account=snapshot,
        store=store,
        json={"text": text},
    )


def who_am_i(client, account):
    snapshot, store = adapter_args(account)
    return client.call(
        "GET",
        "/2/users/me",
        token=XClient.token(snapshot, store),
        account=snapshot,
        store=store,
        endpoint="me",
    )


def failure(call, *args):
    with pytest.raises(PublishError) as caught:
        call(XClient(), *args)
    return caught.value


def test_a_refused_connection_never_carried_the_post(account, settings, closed_port):
    settings.X_API_BASE_URL = f"http://127.0.0.1:{closed_port}"
    error = failure(post, account)
    assert (error.kind, error.maybe_accepted) == (ErrorKind.NETWORK, False)
    assert error.message == "No answer from X (NewConnectionError)."


def test_an_answer_dropped_after_the_post_was_made_is_uncertain_and_not_sent_again(x, account):
    x.control.add_fault("accept_then_drop", method="POST", path_prefix="/2/tweets")
    error = failure(post, account, "Dropped")
    assert (error.kind, error.maybe_accepted) == (ErrorKind.NETWORK, True)
    assert error.message.startswith("No answer from X (")
    assert x.control.stats()["requests"]["POST /2/tweets"] == {"connection_closed": 1}
    assert x.control.posts_created(account.external_id, "Dropped") == 1


@pytest.mark.parametrize(
    ("call", "maybe_accepted"), [(post, True), (who_am_i, False)], ids=["post", "get"]
)
def test_an_answer_too_slow_is_uncertain_only_for_a_write(
    x, account, settings, call, maybe_accepted
):
    settings.X_READ_TIMEOUT = 0.05
    x.control.add_fault("latency", latency_ms=300)
    error = failure(call, account)
    assert (error.kind, error.maybe_accepted) == (ErrorKind.NETWORK, maybe_accepted)
    assert error.message == "No answer from X (ReadTimeoutError)."
    # The fake still answers when its delay is over, into the closed connection; wait
    # for it, so its broken-pipe report stays in this test's captured output.
    time.sleep(0.3)


def test_a_connection_x_dropped_is_not_used_again(x, account):
    client = XClient()
    post(client, account, "First")
    x.control.add_fault("accept_then_drop", method="POST", path_prefix="/2/tweets")
    with pytest.raises(PublishError):
        post(client, account, "Second")
    assert post(client, account, "Third")["data"]["text"] == "Third"
    assert who_am_i(client, account)["data"]["id"] == account.external_id


def test_text_beyond_ascii_reaches_x_intact(x, account):
    answer = post(XClient(), account, "Café ☕ 東京")
    assert answer["data"]["text"] == "Café ☕ 東京"
    assert x.control.posts_created(account.external_id, "Café ☕ 東京") == 1


def test_an_answer_that_is_not_json_is_described_by_its_reason():
    answer = urllib3.HTTPResponse(
        body=b"<html>Bad gateway</html>",
        status=502,
        reason="Bad Gateway",
        headers={"Content-Type": "text/html"},
    )
    error = _answer_error(answer, writes=True)
    assert (error.kind, error.http_status, error.maybe_accepted) == (ErrorKind.SERVER, 502, True)
    assert error.message == "X answered 502 (Bad Gateway)."


def test_calls_go_through_the_proxy_the_environment_names(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    pool = pool_for("https://api.x.com")
    assert isinstance(pool, urllib3.ProxyManager)
    assert pool.proxy.host == "proxy.internal"
    assert pool.headers["User-Agent"] == "Kairos"


def test_no_proxy_sends_calls_straight_to_the_host(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "api.x.com")
    assert not isinstance(pool_for("https://api.x.com"), urllib3.ProxyManager)
