import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from harness.ports import HOST, free_port
from harness.processes import (
    ADDRESS_IN_USE,
    ManagedProcess,
    ManagedServer,
    ProcessExited,
    WaitTimedOut,
)
from tests.harness import is_running

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def shell(script: str, tmp_path: Path, **options) -> ManagedProcess:
    return ManagedProcess(["sh", "-c", script], log_path=tmp_path / "sh.log", **options)


def test_output_environment_and_folder_are_the_ones_asked_for(tmp_path):
    process = shell(
        'echo "$GREETING from $(pwd)"; echo oops >&2',
        tmp_path,
        env={"GREETING": "hello"},
        cwd=tmp_path,
    )

    process.run(timeout=5)

    log = process.log_path.read_text()
    assert f"hello from {tmp_path}" in log
    assert "oops" in log


def test_wait_for_log_returns_the_match(tmp_path):
    with shell("echo listening on 4242; sleep 30", tmp_path) as process:
        match = process.wait_for_log(r"listening on (\d+)", timeout=5)

    assert match.group(1) == "4242"


def test_wait_for_log_fails_at_once_with_the_log_tail_when_the_process_exits(tmp_path):
    process = shell("echo cannot read the config; exit 3", tmp_path).start()
    started = time.monotonic()

    with pytest.raises(ProcessExited, match=r"(?s)status 3.*cannot read the config"):
        process.wait_for_log("ready", timeout=30)

    assert time.monotonic() - started < 5


def test_wait_for_log_times_out_with_the_log_tail(tmp_path):
    with (
        shell("echo still starting; sleep 30", tmp_path) as process,
        pytest.raises(WaitTimedOut, match="still starting"),
    ):
        process.wait_for_log("ready", timeout=0.3)


def test_after_a_restart_waits_look_at_the_new_run_only(tmp_path):
    process = shell("echo run $$; sleep 30", tmp_path).start()
    first_pid = process.pid
    process.wait_for_log(f"run {first_pid}", timeout=5)

    process.restart(timeout=5)

    assert process.pid != first_pid
    assert not is_running(first_pid)
    process.wait_for_log(f"run {process.pid}", timeout=5)
    with pytest.raises(WaitTimedOut):
        process.wait_for_log(f"run {first_pid}", timeout=0.2)
    process.terminate()


def test_kill_takes_down_everything_the_process_forked(tmp_path):
    # A child in the process group, like Celery's prefork children, and one in a
    # session of its own, like PostgreSQL's backends.
    script = "sleep 60 & first=$!; setsid sleep 60 & echo children $first $!; wait"
    process = shell(script, tmp_path).start()
    children = process.wait_for_log(r"children (\d+) (\d+)", timeout=5).groups()

    process.kill()

    assert process.returncode == -signal.SIGKILL
    for pid in [process.pid, *map(int, children)]:
        assert not is_running(pid)


def test_terminate_sends_the_stop_signal_and_waits(tmp_path):
    process = shell(
        "trap 'echo bye; exit 0' USR1; echo ready; while :; do sleep 0.1; done",
        tmp_path,
        stop_signal=signal.SIGUSR1,
    ).start()
    process.wait_for_log("ready", timeout=5)

    assert process.terminate(timeout=5) == 0
    assert "bye" in process.log_tail()


def test_terminate_kills_a_process_that_ignores_the_stop_signal(tmp_path):
    process = shell("trap '' TERM; echo ready; while :; do sleep 0.1; done", tmp_path).start()
    process.wait_for_log("ready", timeout=5)
    started = time.monotonic()

    assert process.terminate(timeout=0.5) == -signal.SIGKILL
    assert time.monotonic() - started < 3


def test_wait_for_port_returns_once_the_process_listens(tmp_path):
    port = free_port()
    command = [sys.executable, "-m", "http.server", str(port), "--bind", HOST]

    with ManagedProcess(command, log_path=tmp_path / "http.log") as server:
        server.wait_for_port(port, timeout=10)

        socket.create_connection((HOST, port), timeout=1).close()


def test_wait_for_port_fails_at_once_when_the_process_exits(tmp_path):
    process = shell("echo no luck; exit 1", tmp_path).start()

    with pytest.raises(ProcessExited, match="no luck"):
        process.wait_for_port(free_port(), timeout=30)


def test_run_raises_with_the_log_tail_when_the_command_fails(tmp_path):
    with pytest.raises(ProcessExited, match=r"(?s)status 2.*disk full"):
        shell("echo disk full; exit 2", tmp_path).run(timeout=5)


def test_run_kills_a_command_that_does_not_finish(tmp_path):
    process = shell("echo hanging; sleep 60", tmp_path)

    with pytest.raises(WaitTimedOut, match="hanging"):
        process.run(timeout=0.3)

    assert not is_running(process.pid)


def run_caller(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run `script` in a fresh interpreter that imports the harness, as a chaos run would."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), str(tmp_path / "worker.log")],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_processes_are_stopped_when_the_caller_crashes(tmp_path):
    caller = run_caller(
        """
        import sys
        from pathlib import Path
        from harness.processes import ManagedProcess

        worker = ManagedProcess(
            ["sh", "-c", "sleep 60 & echo child $!; wait"], log_path=Path(sys.argv[1])
        ).start()
        child = worker.wait_for_log(r"child (\\d+)", timeout=5).group(1)
        print(worker.pid, child, flush=True)
        raise RuntimeError("the caller crashed")
        """,
        tmp_path,
    )

    assert "RuntimeError: the caller crashed" in caller.stderr
    for pid in caller.stdout.split():
        assert not is_running(int(pid))


def test_a_forked_child_that_exits_leaves_its_parents_processes_alone(tmp_path):
    caller = run_caller(
        """
        import os, sys
        from pathlib import Path
        from harness.processes import ManagedProcess

        worker = ManagedProcess(["sleep", "60"], log_path=Path(sys.argv[1])).start()
        child = os.fork()
        if child == 0:
            sys.exit(0)  # Runs the atexit handlers inherited from the parent.
        os.waitpid(child, 0)
        print(worker.pid, worker.alive, flush=True)
        """,
        tmp_path,
    )

    worker_pid, alive_after_child_exit = caller.stdout.split()
    assert alive_after_child_exit == "True"
    assert not is_running(int(worker_pid))


LISTENER = """
import socket, sys
listener = socket.create_server(("127.0.0.1", int(sys.argv[1])))
print("listening", flush=True)
while True:
    listener.accept()[0].close()
"""


class Listener(ManagedServer):
    log_name = "listener.log"
    ready_line = "listening"

    def _process_for(self, port: int) -> ManagedProcess:
        return ManagedProcess([sys.executable, "-c", LISTENER, str(port)], log_path=self.log_path)


class Misconfigured(Listener):
    def _process_for(self, port: int) -> ManagedProcess:
        return ManagedProcess(
            [sys.executable, "-c", "raise SystemExit('unknown setting: colour')"],
            log_path=self.log_path,
        )


def test_a_server_whose_port_is_taken_meanwhile_starts_on_another(tmp_path, monkeypatch):
    with socket.create_server((HOST, 0)) as squatter:
        taken = squatter.getsockname()[1]
        ports = iter([taken, free_port()])
        monkeypatch.setattr("harness.processes.free_port", lambda: next(ports))

        with Listener(tmp_path) as listener:
            assert listener.port != taken
            socket.create_connection((HOST, listener.port), timeout=1).close()

    assert ADDRESS_IN_USE in listener.log_path.read_text()


def test_a_server_that_fails_otherwise_raises_at_once_with_its_log_tail(tmp_path):
    server = Misconfigured(tmp_path)

    with pytest.raises(ProcessExited, match="unknown setting: colour"):
        server.start()

    assert server.log_path.read_text().count("--- harness: starting") == 1


def test_a_server_restarts_on_the_same_port(tmp_path):
    with Listener(tmp_path) as listener:
        port, first_pid = listener.port, listener.pid

        listener.restart()

        assert (listener.port, is_running(first_pid)) == (port, False)
        socket.create_connection((HOST, port), timeout=1).close()
