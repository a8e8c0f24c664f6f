import socket
import time

import psycopg
import pytest

from harness.ports import HOST, free_port
from harness.postgres import PostgresServer
from harness.processes import ADDRESS_IN_USE, ProcessExited
from tests.harness import is_running


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with PostgresServer(tmp_path_factory.mktemp("postgres")) as server:
        yield server


def fetch_one(url: str, query: str) -> tuple:
    with psycopg.connect(url, autocommit=True) as connection:
        return connection.execute(query).fetchone()


def test_serves_the_kairos_database_on_a_private_port(server):
    assert fetch_one(server.url, "SELECT current_database(), current_user") == (
        "kairos",
        "postgres",
    )
    assert fetch_one(server.url, "SHOW listen_addresses") == (HOST,)
    assert fetch_one(server.url, "SHOW fsync") == ("off",)
    assert server.port != 5432


def test_listens_on_a_unix_socket_in_its_workdir(server):
    with psycopg.connect(
        host=str(server.workdir), port=server.port, user="postgres", dbname="kairos"
    ) as connection:
        assert connection.execute("SELECT 1").fetchone() == (1,)


def test_after_a_kill_it_recovers_committed_rows_on_the_same_url(server):
    url, postmaster = server.url, server.pid
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE TABLE survivors (name text)")
        connection.execute("INSERT INTO survivors VALUES ('committed')")
        backend = connection.info.backend_pid

        server.kill()

        assert not is_running(postmaster)
        assert not is_running(backend)
        server.restart()

    assert server.url == url
    assert fetch_one(url, "SELECT name FROM survivors") == ("committed",)


def test_stop_cuts_off_connected_clients_instead_of_waiting_for_them(server):
    stopped_pid = server.pid
    with psycopg.connect(server.url) as idle_client:
        started = time.monotonic()

        server.stop()

        assert time.monotonic() - started < 5
        with pytest.raises(psycopg.OperationalError):
            idle_client.execute("SELECT 1")
    assert not is_running(stopped_pid)
    server.restart()
    assert fetch_one(server.url, "SELECT 1") == (1,)


def test_a_port_taken_meanwhile_is_replaced_by_another(tmp_path, monkeypatch):
    with socket.create_server((HOST, 0)) as squatter:
        taken = squatter.getsockname()[1]
        ports = iter([taken, free_port()])
        monkeypatch.setattr("harness.processes.free_port", lambda: next(ports))

        with PostgresServer(tmp_path) as server:
            assert server.port != taken
            assert fetch_one(server.url, "SELECT 1") == (1,)

    assert ADDRESS_IN_USE in server.log_path.read_text()


def test_a_server_that_cannot_start_raises_at_once_with_its_log_tail(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "PG_VERSION").write_text("15\n")  # A cluster with nothing in it.
    started = time.monotonic()

    with pytest.raises(ProcessExited, match="could not access the server configuration file"):
        PostgresServer(tmp_path, timeout=30).start()

    assert time.monotonic() - started < 10
