"""The request and response shapes every fake endpoint speaks, independent of the socket."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
PROBLEM_CONTENT_TYPE = "application/problem+json"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""
    path_params: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_target(
        cls, *, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> Request:
        path, _, query_string = target.partition("?")
        return cls(
            method=method,
            path=path,
            query=parse_query(query_string),
            headers=headers,
            body=body,
        )

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def json(self) -> Any:
        """The decoded JSON body; raises ValueError when it is not JSON."""
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return parse_query(self.body.decode("utf-8", errors="replace"))


@dataclass
class Response:
    status: int
    body: dict[str, Any] | list[Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = JSON_CONTENT_TYPE

    def encoded_body(self) -> bytes:
        if self.body is None:
            return b""
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode()


def parse_query(query_string: str) -> dict[str, str]:
    """First value of each parameter; X documents no repeated query parameters."""
    return {
        name: values[0] for name, values in parse_qs(query_string, keep_blank_values=True).items()
    }
