"""Set up and run all of Kairos on one machine: web, worker and beat together.

On the embedded default this needs no server at all (SQLite, a broker in a
folder). It migrates, collects static files, makes sure an admin user exists
(printing a new password it made, or taking KAIROS_ADMIN_PASSWORD), creates a
demo workspace with a sandbox account on an empty database, then starts gunicorn
and a Celery worker with an embedded beat, and stops all of them together.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from accounts.services import admin_user_ensure, demo_workspace_ensure


class Command(BaseCommand):
    help = "Set up and run web, worker and beat together (the embedded default)."

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
        self._admin_user()
        if not no_demo:
            demo = demo_workspace_ensure()
            if demo is not None:
                self.stdout.write(f"Demo workspace “{demo.name}” with sandbox account @demo.")
        self.stdout.write(self.style.SUCCESS(f"Kairos admin: http://{host}:{port}/admin/"))
        sys.exit(self._supervise(self._commands(host=host, port=port, concurrency=concurrency)))

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
    def _commands(*, host: str, port: int, concurrency: int) -> dict[str, list[str]]:
        python = sys.executable
        worker = [
            python,
            "-m",
            "celery",
            "--app=config",
            "worker",
            "--beat",
            "--queues=dispatch,publish,celery",
            f"--concurrency={concurrency}",
            "--loglevel=INFO",
        ]
        if settings.CELERY_BROKER_URL.startswith("filesystem://"):
            # A folder broker carries no broadcasts; these would only poll for nothing.
            worker += ["--without-mingle", "--without-gossip", "--without-heartbeat"]
        return {
            "web": [
                python,
                "-m",
                "gunicorn",
                "config.wsgi",
                f"--bind={host}:{port}",
                "--workers=2",
                "--threads=4",
                "--access-logfile=-",
            ],
            "worker": worker,
        }

    def _supervise(self, commands: dict[str, list[str]]) -> int:
        """Run the processes until one stops or we are told to; then stop them all."""
        processes = {name: subprocess.Popen(argv) for name, argv in commands.items()}
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    self.stderr.write(f"{name} stopped (exit {process.returncode}); stopping all.")
                    exit_code, stopping = process.returncode or 1, True
                    break
            time.sleep(0.5)
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        return exit_code
