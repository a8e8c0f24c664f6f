from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models

from accounts.timezones import zone_canonical_name


def validate_timezone_name(value: str) -> None:
    zone_canonical_name(value)


class Workspace(models.Model):
    """A brand: its members, accounts and posts, with its own defaults for time."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    default_timezone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_timezone_name],
        help_text="IANA zone used when a schedule names none, e.g. Europe/Paris.",
    )
    publishing_paused_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set: nothing of this workspace is published until it is resumed.",
    )
    missed_post_window = models.DurationField(
        default=timedelta(hours=6),
        help_text="A post that could not start within this long after its time is marked "
        "missed instead of going out late.",
    )
    posts_need_approval = models.BooleanField(
        default=False,
        help_text="Set: a post goes out only once an approver has approved it.",
    )
    authors_may_self_approve = models.BooleanField(
        default=False,
        help_text="Set: an approver may approve a post they wrote themselves.",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="workspaces"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        EDITOR = "editor", "Editor"
        APPROVER = "approver", "Approver"
        VIEWER = "viewer", "Viewer"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EDITOR)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="membership_unique_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.get_role_display()})"


class SocialAccount(models.Model):
    """One account on one network that a workspace publishes to."""

    class Network(models.TextChoices):
        # Each has its adapter in publishing/networks/<value>/ (docs/architecture.md).
        SANDBOX = "sandbox", "Sandbox"
        X = "x", "X"
        LINKEDIN = "linkedin", "LinkedIn"
        FACEBOOK = "facebook", "Facebook"
        INSTAGRAM = "instagram", "Instagram"
        MASTODON = "mastodon", "Mastodon"
        BLUESKY = "bluesky", "Bluesky"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        NEEDS_REAUTH = "needs_reauth", "Needs reconnecting"
        PAUSED = "paused", "Paused"
        DISABLED = "disabled", "Disabled"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="accounts")
    network = models.CharField(max_length=16, choices=Network.choices)
    handle = models.CharField(max_length=100, help_text="The account's @name on its network.")
    external_id = models.CharField(max_length=64, help_text="The account's id on its network.")
    display_name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # Network credentials (tokens), encrypted at rest. Never shown in the admin,
    # the API or logs; read and written only through accounts.services.
    credentials = models.TextField(blank=True, default="", editable=False)
    token_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="When the access token stops working."
    )
    # The network's profile of the account, cached (refreshed lazily and periodically).
    avatar_url = models.URLField(max_length=500, blank=True)
    followers_count = models.PositiveIntegerField(null=True, blank=True)
    subscription_type = models.CharField(
        max_length=32, blank=True, help_text="X: None, Basic, Premium or PremiumPlus."
    )
    profile_refreshed_at = models.DateTimeField(null=True, blank=True)
    billing_problem = models.TextField(
        blank=True, help_text="Set when the network refused for billing; cleared by staff."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["workspace", "network", "handle"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "network", "external_id"], name="social_account_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"@{self.handle} ({self.get_network_display()})"

    def __repr__(self) -> str:
        # Spelled out so that credentials can never reach a log through a repr.
        return f"<SocialAccount {self.pk} {self.network}:@{self.handle}>"


class NetworkApp(models.Model):
    """Kairos's own app on one server of a network where every server keeps its own apps
    (a Mastodon instance): registered there the first time an account on it is
    connected, and used for every sign-in there after."""

    network = models.CharField(max_length=16, choices=SocialAccount.Network.choices)
    server = models.CharField(max_length=200, help_text="The server's address, as https://host.")
    client_id = models.CharField(max_length=200)
    # Encrypted like an account's credentials (accounts/crypto.py).
    client_secret = models.TextField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["network", "server"], name="network_app_unique"),
        ]

    def __str__(self) -> str:
        return f"Kairos on {self.server} ({self.get_network_display()})"


class AuditEvent(models.Model):
    """One change or transition, who made it and when. Rows are only ever added."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="audit_events", null=True
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        help_text="Empty when Kairos itself made the change.",
    )
    action = models.CharField(max_length=64)
    # No index of its own: audit_subject_idx (subject_type, subject_id) leads with it.
    subject_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, db_index=False)
    subject_id = models.CharField(max_length=64)
    subject = GenericForeignKey("subject_type", "subject_id")
    from_status = models.CharField(max_length=32, blank=True)
    to_status = models.CharField(max_length=32, blank=True)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="audit_subject_idx")]

    def __str__(self) -> str:
        return f"{self.action} {self.subject_type.model}#{self.subject_id}"
