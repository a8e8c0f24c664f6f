"""Fault injection: latency, error statuses, drops after and before acceptance, seeded rates."""

from __future__ import annotations

import time

import pytest
import requests

from fakex.control import ConnectedUser, FakeXControlError, RunningFakeX


@pytest.fixture(autouse=True)
def fresh_fake(fake_x: RunningFakeX) -> None:
    fake_x.control.reset()


@pytest.fixture
def alice(fake_x: RunningFakeX) -> ConnectedUser:
    return fake_x.control.create_connected_user(username="alice")


def post(
    fake_x: RunningFakeX, user: ConnectedUser, text: str, session: requests.Session | None = None
) -> requests.Response:
    sender = session or requests
    return sender.post(
        f"{fake_x.url}/2/tweets", json={"text": text}, headers=user.headers, timeout=5
    )


def test_latency_delays_the_answer(fake_x, alice):
    fake_x.control.add_fault("latency", latency_ms=300)

    started = time.monotonic()
    response = post(fake_x, alice, "slow")

    assert time.monotonic() - started >= 0.3
    assert response.status_code == 201
    assert int(response.headers["x-response-time"]) >= 300


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_injected_server_errors_create_nothing(fake_x, alice, status):
    fake_x.control.add_fault("status", status=status)

    response = post(fake_x, alice, "hello")

    assert response.status_code == status
    assert response.json()["status"] == status
    assert response.headers["x-rate-limit-remaining"]
    assert fake_x.control.posts_created(alice.id, "hello") == 0


def test_an_injected_429_looks_like_a_spent_window(fake_x, alice):
    fake_x.control.add_fault("status", status=429)

    response = post(fake_x, alice, "hello")

    assert response.status_code == 429
    assert response.json()["title"] == "Too Many Requests"
    assert response.headers["x-rate-limit-remaining"] == "0"


def test_accept_then_drop_creates_the_post_but_the_client_gets_no_answer(fake_x, alice):
    fake_x.control.add_fault("accept_then_drop", method="POST", path_prefix="/2/tweets")
    session = requests.Session()

    with pytest.raises(requests.ConnectionError):
        post(fake_x, alice, "did it go out?", session)

    assert fake_x.control.posts_created(alice.id, "did it go out?") == 1
    assert [p["submitted_text"] for p in fake_x.control.posts(user_id=alice.id)] == [
        "did it go out?"
    ]
    stats = fake_x.control.stats()
    assert stats["requests"]["POST /2/tweets"] == {"connection_closed": 1}
    assert stats["faults"] == {"accept_then_drop": 1}
    # The retry a careful client must not make blindly: X calls it a duplicate.
    retry = post(fake_x, alice, "did it go out?", session)
    assert retry.status_code == 403
    assert fake_x.control.duplicate_refusals(alice.id, "did it go out?") == 1


@pytest.mark.parametrize(("mode", "status"), [("close", None), ("503", 503)])
def test_refuse_before_accept_creates_nothing(fake_x, alice, mode, status):
    fake_x.control.add_fault("refuse_before_accept", refuse_mode=mode)

    if status is None:
        with pytest.raises(requests.ConnectionError):
            post(fake_x, alice, "refused")
    else:
        assert post(fake_x, alice, "refused").status_code == status

    assert fake_x.control.posts_created(alice.id, "refused") == 0
    assert post(fake_x, alice, "refused").status_code == 201


def test_a_rule_fires_for_the_next_n_matching_requests_only(fake_x, alice):
    fake_x.control.add_fault("status", status=503, count=2, method="POST", path_prefix="/2/tweets")

    statuses = [post(fake_x, alice, f"try {n}").status_code for n in range(3)]

    assert statuses == [503, 503, 201]
    assert fake_x.control.faults()["rules"] == []


def test_rules_match_on_method_path_and_user(fake_x, alice):
    bob = fake_x.control.create_connected_user(username="bob")
    fake_x.control.add_fault("status", status=500, user_id=bob.id)
    fake_x.control.add_fault("status", status=502, method="GET", path_prefix="/2/users/me")

    assert post(fake_x, alice, "alice is fine").status_code == 201
    assert (
        requests.get(f"{fake_x.url}/2/users/me", headers=alice.headers, timeout=5).status_code
        == 502
    )
    assert post(fake_x, bob, "bob is not").status_code == 500


def test_faults_can_hit_the_token_endpoint(fake_x):
    fake_x.control.add_fault("status", status=503, path_prefix="/2/oauth2/token")

    response = requests.post(
        f"{fake_x.url}/2/oauth2/token", data={"grant_type": "refresh_token"}, timeout=5
    )

    assert response.status_code == 503


def test_seeded_rates_repeat_the_same_run(fake_x, alice):
    def run() -> list[int]:
        fake_x.control.reset()
        user = fake_x.control.create_connected_user(username="alice")
        fake_x.control.set_duplicate_detection(False)
        fake_x.control.set_fault_rates({"status": 0.3}, seed=7, statuses=[500, 503])
        return [post(fake_x, user, "again").status_code for _ in range(40)]

    first, second = run(), run()

    assert first == second
    assert {500, 503, 201} <= set(first)
    assert fake_x.control.stats()["posts_created_total"] == first.count(201)


def test_rates_for_every_kind_keep_counts_consistent(fake_x, alice):
    fake_x.control.set_duplicate_detection(False)
    rates = {"latency": 0.1, "status": 0.1, "accept_then_drop": 0.1, "refuse_before_accept": 0.1}
    fake_x.control.set_fault_rates(rates, seed=3, latency_ms=1, statuses=[429, 500])
    session = requests.Session()
    answered, dropped = 0, 0

    for n in range(60):
        try:
            answered += post(fake_x, alice, f"post {n}", session).status_code == 201
        except requests.ConnectionError:
            dropped += 1

    stats = fake_x.control.stats()
    assert set(stats["faults"]) == set(rates)
    assert dropped == stats["faults"]["accept_then_drop"] + stats["faults"]["refuse_before_accept"]
    assert stats["posts_created_total"] == answered + stats["faults"]["accept_then_drop"]


def test_clearing_faults_stops_them(fake_x, alice):
    fake_x.control.set_fault_rates({"status": 1.0}, seed=1)
    fake_x.control.clear_faults()

    assert post(fake_x, alice, "calm").status_code == 201


def test_control_refuses_unknown_fault_kinds(fake_x):
    with pytest.raises(FakeXControlError) as refused:
        fake_x.control.add_fault("gremlins")

    assert refused.value.status == 400
