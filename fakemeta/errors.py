"""The Graph API's error envelope and the answers the fake gives in it.

Every error is `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`
(reference/networks.md, Facebook → Errors); clients switch on `code` and `error_subcode`.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from fakex.wire import Response


def graph_error(
    status: int,
    message: str,
    *,
    code: int,
    subcode: int | None = None,
    kind: str = "OAuthException",
    transient: bool = False,
    user_title: str = "",
) -> Response:
    error = {
        "message": message,
        "type": kind,
        "code": code,
        "is_transient": transient,
        "fbtrace_id": secrets.token_urlsafe(12),
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    if user_title:
        error["error_user_title"] = user_title
    return Response(status, {"error": error})


def no_token() -> Response:
    return graph_error(
        400,
        "An active access token must be used to query information about the current user.",
        code=2500,
    )


def invalid_token() -> Response:
    return graph_error(400, "Invalid OAuth access token - Cannot parse access token", code=190)


def expired_token(expired_at: float, now: float) -> Response:
    def when(instant: float) -> str:
        return datetime.fromtimestamp(instant, UTC).strftime("%A, %d-%b-%y %H:%M:%S UTC")

    return graph_error(
        400,
        f"Error validating access token: Session has expired on {when(expired_at)}. "
        f"The current time is {when(now)}.",
        code=190,
        subcode=463,
    )


def aliases_missing(object_ids: list[str]) -> Response:
    """A multi-ID read (`?ids=`) naming objects that do not exist: the whole read fails."""
    return graph_error(
        404,
        f"(#803) Some of the aliases you requested do not exist: {','.join(object_ids)}",
        code=803,
    )


def too_many_ids(most: int) -> Response:
    return graph_error(400, f"(#100) Too many IDs. Maximum: {most}.", code=100)


def not_found(object_id: str, method: str = "GET") -> Response:
    verb = {"GET": "get", "POST": "post", "DELETE": "delete"}.get(method, "get")
    return graph_error(
        400,
        f"Unsupported {verb} request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation.",
        code=100,
        subcode=33,
        kind="GraphMethodException",
    )


def missing_permission(needed: str) -> Response:
    return graph_error(
        403,
        f"(#200) If posting to a page, requires both pages_read_engagement and {needed} as an "
        "admin with sufficient administrative permission",
        code=200,
    )


def needs_permission(needed: str) -> Response:
    return graph_error(400, f"(#10) This endpoint requires the '{needed}' permission.", code=10)


def invalid_parameter(message: str, *, subcode: int | None = None) -> Response:
    return graph_error(400, f"(#100) {message}", code=100, subcode=subcode)


def duplicate() -> Response:
    return graph_error(400, "(#506) Duplicate status message", code=506)


def app_throttled() -> Response:
    return graph_error(400, "(#4) Application request limit reached", code=4, transient=True)


def page_throttled(network: str) -> Response:
    if network == "instagram":
        return graph_error(
            400, "(#80002) There have been too many calls to this Instagram account.", code=80002
        )
    return graph_error(400, "(#32) Page request limit reached", code=32)


def server_error(status: int) -> Response:
    if status == 500:
        return graph_error(500, "An unknown error has occurred.", code=1, transient=True)
    return graph_error(
        status, "Service temporarily unavailable", code=2, kind="OAuthException", transient=True
    )
