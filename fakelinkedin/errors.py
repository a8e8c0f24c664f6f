"""LinkedIn's error bodies, as the fake answers them (reference/networks.md, LinkedIn →
Errors): `{"status", "serviceErrorCode"?, "code"?, "message"}`, and for 422 the
`errorDetails.inputErrors` of a refused field."""

from __future__ import annotations

from fakex.wire import Response


def error(
    status: int, message: str, *, code: str = "", service_code: int | None = None
) -> Response:
    body: dict = {"status": status, "message": message}
    if code:
        body["code"] = code
    if service_code is not None:
        body["serviceErrorCode"] = service_code
    return Response(status, body)


def invalid_token() -> Response:
    return error(401, "Invalid access token", service_code=65600)


def expired_token() -> Response:
    return error(
        401,
        "The token used in the request has expired",
        code="EXPIRED_ACCESS_TOKEN",
        service_code=65602,
    )


def revoked_token() -> Response:
    return error(
        401,
        "The token used in the request has been revoked by the user",
        code="REVOKED_ACCESS_TOKEN",
        service_code=65601,
    )


def access_denied(what: str) -> Response:
    return error(
        403,
        f"Not enough permissions to access: {what}",
        code="ACCESS_DENIED",
        service_code=100,
    )


def video_forbidden() -> Response:
    """The Videos API's refusal of a video the caller does not own (nor administers)."""
    return Response(
        403,
        {
            "message": "Accessing this video resource is forbidden. Please check your "
            "permissions for this resource",
            "status": 403,
        },
    )


def not_found(what: str) -> Response:
    return error(404, f"Not Found: {what}", code="NOT_FOUND")


def illegal_argument(message: str) -> Response:
    return error(400, message, code="ILLEGAL_ARGUMENT")


def missing_field(path: str) -> Response:
    return Response(
        422,
        {
            "message": f"ERROR :: {path} :: field is required but not found and has no default "
            "value\n",
            "status": 422,
        },
    )


def duplicate(urn: str) -> Response:
    return Response(
        422,
        {
            "errorDetailType": "com.linkedin.common.error.BadRequest",
            "message": "com.linkedin.content.common.exception.BadRequestResponseException: "
            f"Content is a duplicate of {urn}",
            "errorDetails": {
                "inputErrors": [
                    {
                        "description": "Duplicate post is detected",
                        "input": {},
                        "code": "DUPLICATE_POST",
                    }
                ]
            },
            "status": 422,
        },
    )


def version_missing() -> Response:
    return error(
        400,
        "A version must be present. Please specify a version by adding the LinkedIn-Version "
        "header.",
        code="VERSION_MISSING",
    )


def nonexistent_version(version: str) -> Response:
    return error(426, f"Requested version {version} is not active", code="NONEXISTENT_VERSION")


def throttled() -> Response:
    return error(
        429,
        "Resource level throttle limit for calls to this resource is reached.",
        service_code=101,
    )


def server_error(status: int) -> Response:
    message = "Unable to obtain activity" if status == 500 else "Service Unavailable"
    return error(status, message)


def oauth_error(status: int, name: str, description: str) -> Response:
    return Response(status, {"error": name, "error_description": description})
