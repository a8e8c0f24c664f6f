import socket

import pytest
import redis

from harness.ports import HOST, free_port
from harness.processes import ADDRESS_IN_USE
from harness.redis import RedisServer
from tests.harness import is_running


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


def connect(server: RedisServer, db: int = 0) -> redis.Redis:
    return redis.Redis.from_url(server.url, db=db, socket_timeout=5)


def test_serves_on_a_private_port_without_persistence(server):
    with connect(server) as client:
        assert client.ping()
        assert client.config_get("save") == {"save": ""}
        assert client.config_get("appendonly") == {"appendonly": "no"}
    assert server.url == f"redis://{HOST}:{server.port}/0"
    assert server.port != 6379


def test_flush_deletes_every_key(server):
    for db in (0, 1):
        with connect(server, db) as client:
            client.set("queued", "message")

    server.flush()

    for db in (0, 1):
        with connect(server, db) as client:
            assert client.dbsize() == 0


def test_after_a_kill_it_restarts_empty_on_the_same_url(server):
    url, killed_pid = server.url, server.pid
    with connect(server) as client:
        client.set("in flight", "message")

    server.kill()

    assert not is_running(killed_pid)
    with connect(server) as client, pytest.raises(redis.ConnectionError):
        client.ping()

    server.restart()

    assert server.url == url
    with connect(server) as client:
        assert client.get("in flight") is None


def test_stop_then_restart(server):
    stopped_pid = server.pid

    server.stop()

    assert not is_running(stopped_pid)
    server.restart()
    with connect(server) as client:
        assert client.ping()


def test_a_port_taken_meanwhile_is_replaced_by_another(tmp_path, monkeypatch):
    with socket.create_server((HOST, 0)) as squatter:
        taken = squatter.getsockname()[1]
        ports = iter([taken, free_port()])
        monkeypatch.setattr("harness.processes.free_port", lambda: next(ports))

        with RedisServer(tmp_path) as server, connect(server) as client:
            assert server.port != taken
            assert client.ping()

    assert ADDRESS_IN_USE in server.log_path.read_text()
