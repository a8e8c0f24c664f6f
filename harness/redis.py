"""A private Redis server on a free port, with nothing persisted.

Integration tests, the chaos run and benchmarks use it as the Celery broker
instead of the machine's shared Redis on 6379, so that they may flush, kill and
restart it at will.
"""

import shutil

import redis

from harness.ports import HOST
from harness.processes import HarnessError, ManagedProcess, ManagedServer


class RedisServer(ManagedServer):
    """A Redis server on a free port of 127.0.0.1, logging to `workdir`/redis.log.

    It persists nothing, so a restart (after `stop()` or `kill()`) comes back
    empty, as a broker without persistence does after a crash: the messages in
    flight are lost, which is what the chaos run needs to provoke.
    """

    log_name = "redis.log"
    ready_line = "Ready to accept connections"

    @property
    def url(self) -> str:
        """The URL of database 0, for CELERY_BROKER_URL or redis.Redis.from_url."""
        return f"redis://{HOST}:{self._require_port()}/0"

    def flush(self) -> None:
        """Delete every key of every database: queued messages, results, locks."""
        with redis.Redis.from_url(self.url, socket_timeout=self.timeout) as client:
            client.flushall()

    def _process_for(self, port: int) -> ManagedProcess:
        return ManagedProcess(
            [
                _redis_server(),
                "--port",
                str(port),
                "--bind",
                HOST,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            log_path=self.log_path,
            cwd=self.workdir,
        )


def _redis_server() -> str:
    path = shutil.which("redis-server")
    if path is None:
        raise HarnessError("redis-server is not on PATH; install redis-server (apt-get)")
    return path
