"""Error bodies as X sends them.

Where platforms.md quotes a real body ([obs]) it is copied field for field, key order
included. Bodies marked [inf] are our best guess in X's style and say so.
"""

from __future__ import annotations

import json
from typing import Any

from fakex.wire import PROBLEM_CONTENT_TYPE, Response

TWITTER_PROBLEM_HOST = "api.twitter.com"
X_PROBLEM_HOST = "api.x.com"

INVALID_REQUEST_DETAIL = "One or more parameters to your request was invalid."
TEXT_TOO_LONG_MESSAGE = (
    "Your Tweet text is too long. For more information on how Twitter determines text "
    "length see https://github.com/twitter/twitter-text."
)
DUPLICATE_CONTENT_DETAIL = "You are not allowed to create a Tweet with duplicate content."
REPLY_NOT_SUMMONED_DETAIL = (
    "Reply to this conversation is not allowed because you have not been mentioned or "
    "otherwise engaged by the author of the post you are replying to."
)
# A usage-capped or credit-less account is an account of the developer, not of a user.
FAKE_DEVELOPER_ACCOUNT_ID = 1243608864848629761


def problem_type(host: str, name: str) -> str:
    return f"https://{host}/2/problems/{name}"


def about_blank(status: int, title: str, detail: str) -> dict[str, Any]:
    return {"title": title, "type": "about:blank", "status": status, "detail": detail}


def unauthorized() -> Response:
    """[obs] bad, expired or revoked token."""
    return Response(401, about_blank(401, "Unauthorized", "Unauthorized"))


def missing_scope() -> Response:
    """[obs] a user token without the endpoint's scope (node-twitter-api-v2#588)."""
    return Response(
        403, about_blank(403, "Forbidden", "Forbidden"), content_type=PROBLEM_CONTENT_TYPE
    )


def forbidden(detail: str) -> Response:
    """[obs] key order of the duplicate-content 403, reused for every detail."""
    return Response(
        403, {"detail": detail, "type": "about:blank", "title": "Forbidden", "status": 403}
    )


def too_many_requests() -> Response:
    """[obs] the v2 429; the docs' v1.1 `errors[].code 88` shape is stale."""
    return Response(429, about_blank(429, "Too Many Requests", "Too Many Requests"))


def usage_capped(host: str) -> Response:
    """[obs] monthly product cap."""
    return Response(
        429,
        {
            "title": "UsageCapExceeded",
            "detail": "Usage cap exceeded: Monthly product cap",
            "type": problem_type(host, "usage-capped"),
            "period": "Monthly",
            "scope": "Product",
        },
    )


def credits_depleted(host: str) -> Response:
    """[obs] pay-per-use account without credits."""
    return Response(
        402,
        {
            "account_id": FAKE_DEVELOPER_ACCOUNT_ID,
            "title": "CreditsDepleted",
            "detail": (
                f"Your enrolled account [{FAKE_DEVELOPER_ACCOUNT_ID}] does not have any "
                "credits to fulfill this request."
            ),
            "type": problem_type(host, "credits"),
        },
    )


def parameter_error(parameter: str, value: Any, message: str) -> dict[str, Any]:
    """One `errors[]` entry of an invalid-request answer, as seen in node-twitter-api-v2#294."""
    shown = value if isinstance(value, str) else _compact(value)
    return {"parameters": {parameter: [shown]}, "message": message}


def invalid_request(host: str, errors: list[dict[str, Any]]) -> Response:
    """[obs] 400 envelope for bad parameters."""
    return Response(
        400,
        {
            "errors": errors,
            "title": "Invalid Request",
            "detail": INVALID_REQUEST_DETAIL,
            "type": problem_type(host, "invalid-request"),
        },
    )


def text_too_long(host: str) -> Response:
    """[obs] message, [inf] envelope (tweepy shows the message, node reads errors[0])."""
    return invalid_request(host, [{"message": TEXT_TOO_LONG_MESSAGE}])


def resource_not_found(
    host: str, *, resource_type: str, resource_id: str, parameter: str
) -> dict[str, Any]:
    """[doc] partial-result entry for an id that does not exist."""
    return {
        "value": resource_id,
        "detail": f"Could not find {resource_type} with id: [{resource_id}].",
        "title": "Not Found Error",
        "resource_type": resource_type,
        "parameter": parameter,
        "resource_id": resource_id,
        "type": problem_type(host, "resource-not-found"),
    }


def not_authorized_for_field(host: str, *, post_id: str, field: str) -> dict[str, Any]:
    """[obs] a metric the caller may not read; the answer stays 200."""
    return {
        "resource_type": "tweet",
        "field": field,
        "parameter": "id",
        "resource_id": post_id,
        "title": "Field Authorization Error",
        "section": "data",
        "detail": (
            f"Sorry, you are not authorized to access '{field}' on the Tweet with id : [{post_id}]."
        ),
        "value": post_id,
        "type": problem_type(host, "not-authorized-for-field"),
    }


def server_error(status: int) -> Response:
    """[inf] X's 5xx bodies are not quoted anywhere; these follow its about:blank style."""
    titles = {
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Timeout",
    }
    title = titles[status]
    return Response(status, about_blank(status, title, title))


def page_not_found() -> Response:
    """[inf] an unknown route; X still answers these with its v1.1-era body."""
    return Response(404, {"errors": [{"message": "Sorry, that page does not exist", "code": 34}]})


def oauth_error(status: int, error: str, description: str) -> Response:
    """OAuth endpoints answer RFC 6749 bodies, not problem documents."""
    return Response(status, {"error": error, "error_description": description})


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
