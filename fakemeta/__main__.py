"""`python -m fakemeta --host 127.0.0.1 --port 0`.

Prints `fakemeta listening on http://HOST:PORT` as its first line, then serves until
SIGTERM or SIGINT.
"""

from __future__ import annotations

from fakemeta.control import LISTENING_PREFIX
from fakemeta.server import make_server
from fakex.__main__ import parser_for, serve


def main(argv: list[str] | None = None) -> None:
    arguments = parser_for("python -m fakemeta", __doc__).parse_args(argv)
    server = make_server(arguments.host, arguments.port, verbose=arguments.verbose)
    serve(server, listening_prefix=LISTENING_PREFIX)


if __name__ == "__main__":
    main()
