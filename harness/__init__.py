"""Private servers and processes for integration tests, the chaos run and benchmarks.

Everything runs on free ports of 127.0.0.1 with its files in a folder the
caller chooses, never on the machine's shared PostgreSQL (5432) or Redis (6379),
so that callers may kill, flush and restart at will. Whatever is still running
when the interpreter exits is stopped then.
"""

from harness.ports import free_port
from harness.postgres import PostgresServer
from harness.processes import (
    HarnessError,
    ManagedProcess,
    ManagedServer,
    ProcessExited,
    WaitTimedOut,
)
from harness.redis import RedisServer

__all__ = [
    "HarnessError",
    "ManagedProcess",
    "ManagedServer",
    "PostgresServer",
    "ProcessExited",
    "RedisServer",
    "WaitTimedOut",
    "free_port",
]
