"""A private PostgreSQL server, started from scratch in a folder on a free port.

Integration tests, the chaos run and benchmarks use it instead of the machine's
shared server on 5432, so that they may crash and restart it at will.
"""

import os
import pwd
import signal
import stat
from pathlib import Path
from typing import Self

import psycopg
from psycopg import sql

from harness.ports import HOST
from harness.processes import HarnessError, ManagedProcess, ManagedServer

# Debian keeps one folder per major version: /usr/lib/postgresql/15/bin.
DEBIAN_POSTGRES_ROOT = Path("/usr/lib/postgresql")
# initdb and postgres refuse to run as root, so root runs them as this account.
SERVER_ACCOUNT = "postgres"


def postgres_bin_dir() -> Path:
    """The bin folder of the newest PostgreSQL installed."""
    versions = [
        folder
        for folder in DEBIAN_POSTGRES_ROOT.glob("*")
        if folder.name.isdigit() and (folder / "bin" / "postgres").exists()
    ]
    if not versions:
        raise HarnessError(
            f"no PostgreSQL server under {DEBIAN_POSTGRES_ROOT}; install postgresql (apt-get)"
        )
    return max(versions, key=lambda folder: int(folder.name)) / "bin"


class PostgresServer(ManagedServer):
    """A throwaway PostgreSQL cluster in `workdir`, on a free port of 127.0.0.1 only.

    `workdir` holds the data directory, the unix socket and postgres.log; keep its
    path short, as a socket path may not exceed 107 bytes. The first start runs
    initdb and creates the database `kairos`; a workdir that already holds a
    cluster is reused.

    `stop()` is a fast shutdown: open transactions roll back, clients are cut
    off. `kill()` takes the backends down with the postmaster, as a restart would
    refuse to start while any of them still held the old shared memory; the
    `restart()` after it is crash recovery, replaying the WAL, and frees the
    small System V segment the killed server had to leave behind.
    """

    log_name = "postgres.log"
    ready_line = "database system is ready to accept connections"
    database = "kairos"
    superuser = "postgres"

    def __init__(self, workdir: Path, *, timeout: float = 30.0) -> None:
        super().__init__(workdir, timeout=timeout)
        self.data_dir = self.workdir / "data"
        self._bin_dir = postgres_bin_dir()
        self._account = SERVER_ACCOUNT if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        """The URL of the database `kairos`, for DATABASE_URL or psycopg.connect."""
        return self._url_for(self.database)

    def start(self) -> Self:
        super().start()
        self._create_database()
        return self

    def _prepare(self) -> None:
        super()._prepare()
        if self._account is not None:
            account = pwd.getpwnam(self._account)
            os.chown(self.workdir, account.pw_uid, account.pw_gid)
            _let_others_traverse_to(self.workdir)
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()

    def _initdb(self) -> None:
        initdb = ManagedProcess(
            [
                str(self._bin_dir / "initdb"),
                f"--pgdata={self.data_dir}",
                "--auth=trust",
                f"--username={self.superuser}",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
                "--no-instructions",
            ],
            log_path=self.log_path,
            cwd=self.workdir,
            user=self._account,
        )
        initdb.run(self.timeout)

    def _process_for(self, port: int) -> ManagedProcess:
        return ManagedProcess(
            [
                str(self._bin_dir / "postgres"),
                "-D",
                str(self.data_dir),
                f"--port={port}",
                f"--listen-addresses={HOST}",
                f"--unix-socket-directories={self.workdir}",
                # These servers are throwaway, so they skip fsync for speed. That
                # costs nothing even in the chaos run: the server process dies
                # there, never the machine, and what it wrote is in the kernel.
                # Commits stay synchronous, though: with synchronous_commit=off a
                # killed server would forget commits it had acknowledged.
                "--fsync=off",
                # A killed server cannot free its shared memory. Dynamic segments
                # then stay in the data directory, deleted with it, not in /dev/shm.
                "--dynamic-shared-memory-type=mmap",
            ],
            log_path=self.log_path,
            cwd=self.workdir,
            user=self._account,
            # SIGTERM would be a smart shutdown, waiting for every client to leave.
            stop_signal=signal.SIGINT,
        )

    def _url_for(self, database: str) -> str:
        return f"postgres://{self.superuser}@{HOST}:{self._require_port()}/{database}"

    def _create_database(self) -> None:
        with psycopg.connect(self._url_for("postgres"), autocommit=True) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [self.database]
            ).fetchone()
            if not exists:
                connection.execute(
                    sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database))
                )


def _let_others_traverse_to(path: Path) -> None:
    """Add search permission for others on each folder above `path` that lacks it.

    Temporary folders are private to root (0700), and the postgres account could
    not reach its data directory inside one. Search permission alone lists
    nothing and opens nothing; it only lets a process use a path it already knows.
    """
    for folder in path.parents:
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)
