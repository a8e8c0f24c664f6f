"""Set up and run all of Kairos on one machine: web, worker and beat together.

On the embedded default this needs no server at all (SQLite, a broker in a
folder). It migrates, collects static files, makes sure an admin user exists
(printing a new password it made, or taking KAIROS_ADMIN_PASSWORD), creates a
demo workspace with a sandbox account on an empty database, then starts gunicorn
and a Celery worker with an embedded beat, and stops all of them together.

Supervision:

* Each child (gunicorn's master, the Celery worker) runs in a session, hence a
  process group, of its own; what it forks (gunicorn's workers, Celery's pool
  and the embedded beat) stays in that group. A Ctrl-C in the terminal reaches
  this command alone. It used to reach every process at once, and a gthread
  worker handles SIGINT by exiting from inside the signal handler, which can
  leave it deadlocked on a lock of its thread pool, deaf to the SIGTERM that
  follows and still holding the port.
* Stopping (Ctrl-C, SIGTERM, or any child exiting) sends SIGTERM to each child
  still running: gunicorn lets its workers finish the request in hand (at most
  `GRACEFUL_SECONDS`), Celery shuts down warm. Whatever is still alive in a
  child's group `STOP_SECONDS` later is SIGKILLed, the group whole, so no
  worker, pool child or beat outlives the command. A second Ctrl-C kills at
  once. Celery notices the request between polls of its broker and often needs
  all of `STOP_SECONDS` on the folder broker. A publish cut short this way is
  safe: its job's lease runs out and reconciliation asks the network before
  anything is tried again.
* A child that exits on its own stops the others the same way, and the command
  exits with the child's status (1 if that was 0 or a signal killed it).
* On Linux each child also gets SIGTERM if this command dies without stopping
  it (SIGKILL, the OOM killer): `PR_SET_PDEATHSIG`. Closing the terminal
  (SIGHUP) stops everything like Ctrl-C.
* A child's exit is noticed without reaping it (`WNOWAIT`), so its pid, which
  is its group's id, cannot be reused by an unrelated process before the final
  SIGKILL of the group.

Web workers are gthread (a few threads each): their SIGTERM path is graceful
(stop accepting, finish, cap kept-alive connections) and threads let a browser's
kept-alive connections and a slow page share a worker.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from contextlib import suppress

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts.services import admin_user_ensure, demo_workspace_ensure
from analytics.demo import demo_history_seed
from publishing.metrics import metrics_folder_reset

# How long a child may take to stop after SIGTERM before its group is killed.
STOP_SECONDS = 5.0
# How long gunicorn's workers may spend on the requests in hand when stopping.
GRACEFUL_SECONDS = 3
POLL_SECONDS = 0.1
# Addresses that mean "every interface": links name this machine instead.
WILDCARD_HOSTS = {"", "0.0.0.0", "::"}
# From <linux/prctl.h>.
PR_SET_PDEATHSIG = 1


def web_command(*, host: str, port: int) -> list[str]:
    """gunicorn serving Kairos on host:port, as this command starts it (the chaos run's web
    process too)."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi",
        f"--bind={host}:{port}",
        "--workers=2",
        "--threads=4",
        f"--graceful-timeout={GRACEFUL_SECONDS}",
        # Its default path is one per user: two Kairos on a machine would share it.
        "--no-control-socket",
        # Logs as Kairos's own: plain or JSON, redacted (config/gunicorn.py).
        "--config=python:config.gunicorn",
    ]


class Command(BaseCommand):
    help = (
        "Set up and run web, worker and beat together (the embedded default). "
        "Ctrl-C or SIGTERM stops all of them within a few seconds; so does any of them exiting."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("KAIROS_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("KAIROS_PORT", 8000)))
        parser.add_argument(
            "--concurrency",
            type=int,
            default=int(os.environ.get("KAIROS_WORKER_CONCURRENCY", 2)),
            help="Worker processes publishing in parallel.",
        )
        parser.add_argument("--no-demo", action="store_true", help="Do not create demo data.")

    def handle(self, *args, host, port, concurrency, no_demo, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        # Metrics counted by processes of an earlier run are not this run's.
        metrics_folder_reset()
        self._admin_user()
        if not no_demo:
            demo = demo_workspace_ensure()
            if demo is not None:
                history = demo_history_seed(workspace=demo, now=timezone.now())
                self.stdout.write(
                    f"Demo workspace “{demo.name}” with sandbox account @demo and {history} "
                    "past posts with simulated metrics."
                )
        self.stdout.write(self.style.SUCCESS(f"Kairos admin: http://{host}:{port}/admin/"))
        self.stdout.flush()
        commands = self._commands(host=host, port=port, concurrency=concurrency)
        sys.exit(self._supervise(commands, env=self._env(host=host, port=port)))

    def _admin_user(self) -> None:
        username, password, created = admin_user_ensure(
            username=os.environ.get("KAIROS_ADMIN_USERNAME", "admin"),
            email=os.environ.get("KAIROS_ADMIN_EMAIL", ""),
            password=os.environ.get("KAIROS_ADMIN_PASSWORD") or None,
        )
        if not created:
            self.stdout.write(
                f"Admin user “{username}” exists (change its password with "
                f"`python manage.py changepassword {username}`)."
            )
        elif password:
            self.stdout.write(
                self.style.WARNING(
                    f"Created admin user “{username}” with password: {password}\n"
                    "It is shown only this once; change it with "
                    f"`python manage.py changepassword {username}`."
                )
            )
        else:
            self.stdout.write(f"Created admin user “{username}” with KAIROS_ADMIN_PASSWORD.")

    @staticmethod
    def _env(*, host: str, port: int) -> dict[str, str]:
        """The children's environment: links (sandbox posts) point where the web is served,
        unless the operator said otherwise with KAIROS_PUBLIC_URL."""
        env = dict(os.environ)
        if not env.get("KAIROS_PUBLIC_URL"):
            link_host = "127.0.0.1" if host in WILDCARD_HOSTS else host
            if ":" in link_host:
                link_host = f"[{link_host}]"
            env["KAIROS_PUBLIC_URL"] = f"http://{link_host}:{port}"
        return env

    @staticmethod
    def _commands(*, host: str, port: int, concurrency: int) -> dict[str, list[str]]:
        python = sys.executable
        worker = [
            python,
            "-m",
            "celery",
            "--app=config",
            "worker",
            "--beat",
            "--queues=dispatch,publish,celery,events,webhooks",
            f"--concurrency={concurrency}",
            "--loglevel=INFO",
        ]
        if settings.LOG_FORMAT == "json":
            # Its banner is no log line: a log search would choke on it.
            worker.insert(worker.index("worker"), "--quiet")
        if settings.CELERY_BROKER_URL.startswith("filesystem://"):
            # A folder broker carries no broadcasts; these would only poll for nothing.
            worker += ["--without-mingle", "--without-gossip", "--without-heartbeat"]
        return {"web": web_command(host=host, port=port), "worker": worker}

    def _supervise(self, commands: dict[str, list[str]], *, env: dict[str, str]) -> int:
        """Run the children until one exits or we are told to stop; then stop them all."""
        stop_requests = 0

        def stop(signum, frame):
            nonlocal stop_requests
            stop_requests += 1

        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, stop)
        children = {
            name: subprocess.Popen(
                argv, env=env, start_new_session=True, preexec_fn=_terminate_with_parent
            )
            for name, argv in commands.items()
        }
        exit_code = 0
        while not stop_requests:
            exited = next((name for name, child in children.items() if _exited(child)), None)
            if exited is not None:
                status = _status(children[exited])
                self.stderr.write(f"{exited} stopped (exit {status}); stopping all.")
                exit_code = status if status > 0 else 1
                break
            time.sleep(POLL_SECONDS)
        self.stderr.write("Stopping web, worker and beat… (Ctrl-C again to kill them now)")
        started = time.monotonic()
        for child in children.values():
            if not _exited(child):
                child.send_signal(signal.SIGTERM)
        deadline = started + STOP_SECONDS
        requests_seen = stop_requests
        while time.monotonic() < deadline and stop_requests <= requests_seen:
            if all(_exited(child) for child in children.values()):
                break
            time.sleep(POLL_SECONDS)
        for child in children.values():
            _group_kill(child)
        self.stderr.write(f"Stopped in {time.monotonic() - started:.1f} s.")
        return exit_code


def _terminate_with_parent() -> None:
    """In the child, before exec: ask Linux for SIGTERM when the parent dies."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _exited(child: subprocess.Popen) -> bool:
    """Whether the child exited, leaving it unreaped (a zombie keeps its pid, the group's id)."""
    if child.returncode is not None:
        return True
    if not hasattr(os, "waitid"):
        # Without waitid (macOS), reap: the pid may then be reused before the group's kill.
        return child.poll() is not None
    try:
        info = os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return info is not None


def _status(child: subprocess.Popen) -> int:
    """The exit status of an exited child (negative: the signal that killed it), unreaped."""
    if child.returncode is not None:
        return child.returncode
    info = os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
    return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status


def _group_kill(child: subprocess.Popen) -> None:
    """SIGKILL what is left of the child's group, then reap the child and wait for the rest.

    The group's id is the child's pid, still reserved while the child is unreaped.
    """
    with suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    # Members orphaned by the child are reaped by init; the port is free once they are.
    deadline = time.monotonic() + STOP_SECONDS
    while time.monotonic() < deadline:
        try:
            os.killpg(child.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(POLL_SECONDS / 5)
