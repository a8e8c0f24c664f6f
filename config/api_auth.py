"""Who may call the API, and how often: the API's face of accounts/permissions.py.

- `WorkspaceApiKeyAuthentication` reads `Authorization: Api-Key <key>` and makes the
  request's user an `ApiKeyPrincipal`, so that views scope every query with the same
  `workspaces_where(user=request.user, action=...)` for keys and people.
- `KeyOrStaff` lets in keys and signed-in staff; what either sees and may do is
  decided per workspace by `workspaces_where`. A key with only `read` is refused any
  change (403) before its body is read or its object looked up. A person without staff status gets
  nothing through the API: members who are not staff have no way into the admin
  either, and an integration uses a key.
- `PrincipalRateThrottle` counts requests per key, per person, or per address for the
  unauthenticated, in the cache every process shares; over the rate, DRF answers 429
  with `Retry-After`.
"""

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling

from accounts.keys import api_key_principal
from accounts.permissions import key_only_reads
from accounts.principals import ApiKeyPrincipal

KEY_KEYWORD = "Api-Key"
READ_KEY_REFUSAL = (
    "This API key has only the read scope; an owner of the workspace can make one with "
    "write, publish or admin in the admin (API keys)."
)


class WorkspaceApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        keyword, _, secret = header.partition(" ")
        if keyword != KEY_KEYWORD:
            return None
        principal = api_key_principal(secret=secret.strip())
        if principal is None:
            raise exceptions.AuthenticationFailed(
                "This API key is unknown, revoked or expired; an owner of the workspace "
                "can make a new one in the admin (API keys)."
            )
        return principal, principal.key

    def authenticate_header(self, request) -> str:
        return KEY_KEYWORD


class LockingBasicAuthentication(authentication.BasicAuthentication):
    """HTTP Basic, where a name locked out for wrong passwords (django-axes) is answered
    429 with `Retry-After`, the right password or not."""

    def authenticate_credentials(self, userid, password, request=None):
        try:
            return super().authenticate_credentials(userid, password, request)
        except exceptions.AuthenticationFailed:
            if getattr(request, "axes_locked_out", False):
                raise exceptions.Throttled(
                    wait=settings.AXES_COOLOFF_TIME.total_seconds(),
                    detail="Too many wrong passwords for this name; try again later, or use "
                    "an API key.",
                ) from None
            raise


class KeyOrStaff(permissions.BasePermission):
    message = (
        "Use a workspace API key (Authorization: Api-Key <key>); people need staff access "
        "to use the API with a session or password."
    )

    def has_permission(self, request, view) -> bool:
        user = request.user
        if isinstance(user, ApiKeyPrincipal):
            if request.method not in permissions.SAFE_METHODS and key_only_reads(key=user.key):
                # Before the body is read: a read key learns nothing from a write's refusal.
                raise exceptions.PermissionDenied(READ_KEY_REFUSAL)
            return True
        return bool(user and user.is_authenticated and user.is_active and user.is_staff)


class PrincipalRateThrottle(throttling.SimpleRateThrottle):
    scope = "principal"

    def get_cache_key(self, request, view) -> str:
        user = request.user
        if isinstance(user, ApiKeyPrincipal):
            ident = f"key:{user.key.prefix}"
        elif user and user.is_authenticated:
            ident = f"user:{user.pk}"
        else:
            ident = f"address:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class WorkspaceApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = WorkspaceApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`: a workspace key made by an owner in the admin.",
        }


class LockingBasicScheme(OpenApiAuthenticationExtension):
    target_class = LockingBasicAuthentication
    name = "basicAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic"}
