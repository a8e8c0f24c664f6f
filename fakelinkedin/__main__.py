"""`python -m fakelinkedin --host 127.0.0.1 --port 0`.

Prints `fakelinkedin listening on http://HOST:PORT` as its first line, then serves until
SIGTERM or SIGINT.
"""

from __future__ import annotations

from fakelinkedin.control import LISTENING_PREFIX
from fakelinkedin.server import make_server
from fakex.__main__ import parser_for, serve


def main(argv: list[str] | None = None) -> None:
    arguments = parser_for("python -m fakelinkedin", __doc__).parse_args(argv)
    server = make_server(arguments.host, arguments.port, verbose=arguments.verbose)
    serve(server, listening_prefix=LISTENING_PREFIX)


if __name__ == "__main__":
    main()
