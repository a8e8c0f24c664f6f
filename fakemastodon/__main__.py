"""`python -m fakemastodon --host 127.0.0.1 --port 0`.

Prints `fakemastodon listening on http://HOST:PORT` as its first line, then serves until
SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import signal

from fakemastodon.control import LISTENING_PREFIX
from fakemastodon.server import make_server
from fakex.__main__ import _stop


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m fakemastodon", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    arguments = parser.parse_args(argv)

    server = make_server(arguments.host, arguments.port, verbose=arguments.verbose)
    signal.signal(signal.SIGTERM, _stop)
    try:
        # Inside the try: a caller may send SIGTERM as soon as it reads this line.
        print(f"{LISTENING_PREFIX}{server.url}", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
