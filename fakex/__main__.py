"""`python -m fakex --host 127.0.0.1 --port 0 [--profile pro|basic] [--problem-host api.x.com]`.

Prints `fakex listening on http://HOST:PORT` as its first line, then serves until SIGTERM
or SIGINT.
"""

from __future__ import annotations

import argparse
import signal
from types import FrameType

from fakex.problems import TWITTER_PROBLEM_HOST, X_PROBLEM_HOST
from fakex.ratelimits import PROFILES
from fakex.server import make_server


def parser_for(prog: str, doc: str) -> argparse.ArgumentParser:
    """The options every fake takes: where to listen, and whether to log requests."""
    parser = argparse.ArgumentParser(prog=prog, description=doc.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser


def serve(server, *, listening_prefix: str) -> None:
    """Announce the server's address as the first line, then serve until SIGTERM or SIGINT."""
    signal.signal(signal.SIGTERM, _stop)
    try:
        # Inside the try: a caller may send SIGTERM as soon as it reads this line.
        print(f"{listening_prefix}{server.url}", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> None:
    parser = parser_for("python -m fakex", __doc__)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="pro")
    parser.add_argument(
        "--problem-host",
        choices=[TWITTER_PROBLEM_HOST, X_PROBLEM_HOST],
        default=TWITTER_PROBLEM_HOST,
        help="host in problem `type` URLs",
    )
    arguments = parser.parse_args(argv)

    server = make_server(
        arguments.host,
        arguments.port,
        profile=arguments.profile,
        problem_host=arguments.problem_host,
        verbose=arguments.verbose,
    )
    serve(server, listening_prefix="fakex listening on ")


def _stop(signum: int, frame: FrameType | None) -> None:
    """SIGTERM ends serve_forever the way Ctrl-C does."""
    raise KeyboardInterrupt


if __name__ == "__main__":
    main()
