"""Child processes that a test, a chaos run or a benchmark starts, kills and restarts.

Each `ManagedProcess` runs in its own session, hence its own process group, so
a signal meant for the caller's terminal never reaches it, and `kill()` reaches
everything it forked: the members of its group (Celery's prefork children) and
its descendants that started sessions of their own (PostgreSQL's backends).
Output goes to a log file, appended across restarts, and errors quote its tail.

Whatever is still running when the interpreter exits is stopped then, also when
the caller crashed with an exception. Only a caller killed by a signal it does
not handle (SIGKILL; SIGTERM by default) leaves processes behind, in its
temporary folder and on free ports.
"""

import atexit
import codecs
import os
import pwd
import re
import shlex
import signal
import socket
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, NamedTuple, Self, TypeVar

from harness.ports import HOST, free_port

POLL_INTERVAL = 0.05
LOG_TAIL_LINES = 30
LOG_TAIL_BYTES = 64 * 1024
START_ATTEMPTS = 5
KILL_TIMEOUT = 5.0

# What servers (PostgreSQL, Redis) log, as the strerror of EADDRINUSE, before
# they exit because their port was taken.
ADDRESS_IN_USE = "Address already in use"

E = TypeVar("E", bound="HarnessError")


class HarnessError(RuntimeError):
    """A managed process failed; the message ends with the tail of its log, kept in `log_tail`."""

    def __init__(self, message: str, *, log_tail: str = "") -> None:
        super().__init__(message)
        self.log_tail = log_tail


class ProcessExited(HarnessError):
    """The process exited while we were waiting for it, or a one-shot command failed."""


class WaitTimedOut(HarnessError, TimeoutError):
    """The process did not do what we waited for in time."""


class ManagedProcess:
    """One command line, started in its own process group with its output in `log_path`.

    `env` is laid over the caller's environment. `user` runs the command as that
    account (the caller must be root). `stop_signal` is what `terminate()` sends
    first: SIGTERM suits most programs, PostgreSQL wants SIGINT (fast shutdown).
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        user: str | None = None,
        stop_signal: signal.Signals = signal.SIGTERM,
    ) -> None:
        self.argv = list(argv)
        self.log_path = Path(log_path)
        self.env = dict(env or {})
        self.cwd = cwd
        self.user = user
        self.stop_signal = stop_signal
        self._popen: subprocess.Popen[bytes] | None = None
        # Where this run's output starts in the log: waits and error messages
        # look at this run only, never at what an earlier run printed.
        self._run_offset = 0

    def __repr__(self) -> str:
        return f"<ManagedProcess {self.name} pid={self.pid} log={self.log_path}>"

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.terminate()

    @property
    def name(self) -> str:
        return Path(self.argv[0]).name

    @property
    def pid(self) -> int | None:
        """The pid of the last run (also its process group id), None before the first start."""
        return self._popen.pid if self._popen else None

    @property
    def alive(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    @property
    def returncode(self) -> int | None:
        """The exit status of the last run (negative: killed by that signal), None while alive."""
        return self._popen.poll() if self._popen else None

    def start(self) -> Self:
        """Start a new run, its output appended to the log."""
        if self.alive:
            raise HarnessError(f"{self!r} is already running; use restart()")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"--- harness: starting {shlex.join(self.argv)}\n".encode())
            log.flush()
            self._run_offset = log.tell()
            self._popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
                cwd=self.cwd,
                start_new_session=True,
                **_credentials(self.user),
            )
        _running.add(self)
        return self

    def run(self, timeout: float) -> None:
        """Start a one-shot command and wait until it exits with status 0."""
        self.start().wait_for_exit(timeout)

    def wait_for_exit(self, timeout: float) -> None:
        """Wait until the running command exits with status 0; raise with its log otherwise."""
        popen = self._popen
        if popen is None:
            raise HarnessError(f"{self!r} was never started")
        try:
            status = popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise self._error(WaitTimedOut, f"did not finish within {timeout}s") from None
        finally:
            self.kill()  # A hung command goes, and so does anything a finished one left behind.
        if status != 0:
            raise self._error(ProcessExited, f"failed with status {status}")

    def wait_for_log(self, pattern: str | re.Pattern[str], timeout: float) -> re.Match[str]:
        """Wait until this run's output matches `pattern` and return the match.

        Each poll reads only what is new and searches from the last incomplete
        line on, so a long log costs little, and a pattern spanning lines may
        be missed.
        """
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        output, resume_at = "", 0
        with self.log_path.open("rb") as log:
            log.seek(self._run_offset)
            while True:
                # Look at liveness before reading, so that whatever a process
                # printed just before it exited is still searched.
                exited = not self.alive
                output += decoder.decode(log.read())
                if match := regex.search(output, resume_at):
                    return match
                resume_at = output.rfind("\n") + 1
                if exited:
                    raise self._exited(f"waiting for {regex.pattern!r} in its log")
                if time.monotonic() >= deadline:
                    raise self._timed_out(f"log {regex.pattern!r} within {timeout}s")
                time.sleep(POLL_INTERVAL)

    def wait_for_port(self, port: int, timeout: float, *, host: str = HOST) -> None:
        """Wait until something accepts TCP connections on `host:port`."""
        deadline = time.monotonic() + timeout
        while True:
            exited = not self.alive
            try:
                with socket.create_connection((host, port), timeout=POLL_INTERVAL * 4):
                    return
            except OSError:
                pass
            if exited:
                raise self._exited(f"waiting for it to listen on {host}:{port}")
            if time.monotonic() >= deadline:
                raise self._timed_out(f"listen on {host}:{port} within {timeout}s")
            time.sleep(POLL_INTERVAL)

    def terminate(self, timeout: float = 10.0) -> int | None:
        """Send `stop_signal`, `kill()` after `timeout`; return the exit status.

        The stop signal goes to the main process only: a Celery worker or a
        postmaster shuts its children down in order. Whatever it leaves running
        is killed, so nothing outlives the call.
        """
        if self._popen is None:
            return None
        if self.alive:
            self._popen.send_signal(self.stop_signal)
            with suppress(subprocess.TimeoutExpired):  # Too slow: the kill below ends it.
                self._popen.wait(timeout)
        self.kill()
        return self._popen.returncode

    def kill(self) -> None:
        """SIGKILL the process and everything it forked at once, like a crash or the OOM killer.

        Returns once all of them have died, so that a restart right after it
        never meets a survivor (PostgreSQL refuses to start while an old backend
        still holds its shared memory).
        """
        if self._popen is None:
            return
        leader_reaped = self._popen.poll() is not None
        doomed = _stop_family(self._popen.pid, leader_reaped=leader_reaped)
        for pid in doomed:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._popen.wait()
        _wait_until_dead(doomed)
        _running.discard(self)

    def restart(self, timeout: float = 10.0) -> Self:
        """Stop (see `terminate`) and start again with the same command line."""
        self.terminate(timeout)
        return self.start()

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last `lines` lines this run wrote to the log."""
        size = self.log_path.stat().st_size
        with self.log_path.open("rb") as log:
            log.seek(max(self._run_offset, size - LOG_TAIL_BYTES))
            text = log.read().decode(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def _exited(self, waiting_for: str) -> ProcessExited:
        error = self._error(
            ProcessExited, f"exited with status {self.returncode} while {waiting_for}"
        )
        self.kill()  # Whatever it forked must not outlive it.
        return error

    def _timed_out(self, what: str) -> WaitTimedOut:
        return self._error(WaitTimedOut, f"is running but did not {what}")

    def _error(self, error_class: type[E], what: str) -> E:
        tail = self.log_tail()
        return error_class(
            f"{self.name} (pid {self.pid}) {what}; the end of {self.log_path}:\n{tail}",
            log_tail=tail,
        )


class ManagedServer(ABC):
    """A server run as one ManagedProcess on a free port of 127.0.0.1, in its own `workdir`.

    Subclasses build its command line for a port and name the line it logs once
    it accepts connections. `timeout` bounds each start, stop and restart.
    """

    log_name: ClassVar[str]
    ready_line: ClassVar[str]

    def __init__(self, workdir: Path, *, timeout: float = 30.0) -> None:
        self.workdir = Path(workdir).absolute()
        self.log_path = self.workdir / self.log_name
        self.timeout = timeout
        self.port: int | None = None
        self._process: ManagedProcess | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {HOST}:{self.port} in {self.workdir}>"

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        """The server's main pid, None before the first start."""
        return self._process.pid if self._process else None

    def start(self) -> Self:
        """Start on a free port; choose another if the port is taken before the server binds it."""
        if self._process is not None:
            raise HarnessError(f"{self!r} was started already; use restart()")
        self._prepare()
        for _ in range(START_ATTEMPTS - 1):
            try:
                return self._launch(free_port())
            except ProcessExited as exited:
                if ADDRESS_IN_USE not in exited.log_tail:
                    raise
        return self._launch(free_port())

    def wait_ready(self) -> None:
        """Wait until the server logs `ready_line`.

        Watching the log rather than polling with connections fails at once, with
        the log's tail, when the server exits instead (a bad setting, a port taken,
        a crash during recovery).
        """
        self._started().wait_for_log(self.ready_line, self.timeout)

    def stop(self) -> None:
        """Stop the server the way it likes best; SIGKILL it if that takes over `timeout`."""
        if self._process is not None:
            self._process.terminate(self.timeout)

    def kill(self) -> None:
        """SIGKILL the server and everything it forked at once, like a crash."""
        if self._process is not None:
            self._process.kill()

    def restart(self) -> None:
        """Stop if running, then start again on the same port, so URLs stay valid."""
        self._started().restart(self.timeout)
        self.wait_ready()

    def _prepare(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)

    @abstractmethod
    def _process_for(self, port: int) -> ManagedProcess:
        """The server's process, not started yet, listening on `port` once it is."""

    def _launch(self, port: int) -> Self:
        self.port = port
        self._process = self._process_for(port).start()
        self.wait_ready()
        return self

    def _started(self) -> ManagedProcess:
        if self._process is None:
            raise HarnessError(f"{self!r} was never started; call start()")
        return self._process

    def _require_port(self) -> int:
        if self.port is None:
            raise HarnessError(f"{self!r} has no port yet; call start()")
        return self.port


class _Process(NamedTuple):
    parent: int
    group: int


def _living_processes() -> dict[int, _Process]:
    """Every process of the machine that has not died yet, by pid.

    Zombies count as dead: they hold nothing but their pid, and their reaper
    (init, for orphans) may take its time. Signal 0 would still find them.
    """
    processes = {}
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The fields after the command name, which is in parentheses and may contain anything.
            state, parent, group = stat_file.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, IndexError, ValueError):
            continue  # Gone while we looked.
        if state != "Z":
            processes[int(stat_file.parent.name)] = _Process(int(parent), int(group))
    return processes


def _family(leader: int, *, leader_reaped: bool) -> set[int]:
    """The leader, the members of its process group, and all their descendants."""
    processes = _living_processes()
    if leader_reaped and leader in processes:
        # The kernel reuses a pid once nothing refers to it, not even as a group
        # id, so the leader's family is gone and a stranger has its pid now.
        return set()
    family = {pid for pid, process in processes.items() if leader in (pid, process.group)}
    while True:
        children = {pid for pid, process in processes.items() if process.parent in family}
        if children <= family:
            return family
        family |= children


def process_family(pid: int) -> set[int]:
    """The living process `pid`, the members of its group, and all their descendants
    (whatever sessions they started)."""
    return _family(pid, leader_reaped=False)


def processes_alive(pids: set[int]) -> set[int]:
    """Those of `pids` that have not died (zombies count as dead)."""
    return pids & _living_processes().keys()


def _stop_family(leader: int, *, leader_reaped: bool) -> set[int]:
    """SIGSTOP the leader's family until no new member appears, and return it.

    A stopped process can neither fork nor orphan its children out of sight, so
    once the search finds nobody new, the family is complete.
    """
    stopped: set[int] = set()
    while newcomers := _family(leader, leader_reaped=leader_reaped) - stopped:
        for pid in newcomers:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        stopped |= newcomers
    return stopped


def _wait_until_dead(pids: set[int]) -> None:
    deadline = time.monotonic() + KILL_TIMEOUT
    while survivors := pids & _living_processes().keys():
        if time.monotonic() >= deadline:
            raise HarnessError(f"processes {sorted(survivors)} survived SIGKILL")
        time.sleep(POLL_INTERVAL / 5)


def _credentials(user: str | None) -> dict[str, Any]:
    """Popen arguments that run the child as `user`, with that account's groups only."""
    if user is None:
        return {}
    account = pwd.getpwnam(user)
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


# Processes started and not yet killed, stopped when the interpreter exits.
_running: set[ManagedProcess] = set()
_owner_pid = os.getpid()


@atexit.register
def _stop_all_at_exit() -> None:
    # A child forked from the caller inherits this handler and the set; when it
    # exits it must leave its parent's processes alone.
    if os.getpid() != _owner_pid:
        return
    for process in list(_running):
        process.terminate(timeout=5.0)
