"""Free TCP ports on 127.0.0.1, for servers that must not meet the machine's own.

A port is only known to be free at the moment we ask: another process may bind
it before our server does. `ManagedServer.start` therefore picks again when its
server reports the port taken.
"""

import random
import socket
from pathlib import Path

HOST = "127.0.0.1"
# Above the ports that well-known services and development servers use.
LOWEST_PORT = 20000
HIGHEST_PORT = 65535
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
CANDIDATES = 50


def free_port() -> int:
    """A port on 127.0.0.1 that nothing is bound to right now, outside the ephemeral range.

    The kernel hands ports of the ephemeral range to outgoing connections at any
    moment, so a server restarting on its port (to keep its URL) could find a
    client holding it. Outside that range only a bind takes a port.
    """
    outside = _ports_outside_ephemeral_range()
    for port in random.sample(outside, k=min(CANDIDATES, len(outside))):
        if _can_bind(port):
            return port
    return _port_chosen_by_kernel()


def _ports_outside_ephemeral_range() -> list[int]:
    low, high = map(int, EPHEMERAL_RANGE.read_text().split())
    return [*range(LOWEST_PORT, low), *range(high + 1, HIGHEST_PORT + 1)]


def _can_bind(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
        return True


def _port_chosen_by_kernel() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]
