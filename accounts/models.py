from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey

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
    # The outbox mark (publishing/events.py): set once webhooks and notifications
    # were made from this event. Empty for events nobody outside the audit reads.
    fanned_out_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["subject_type", "subject_id"], name="audit_subject_idx"),
            # The fan-out sweep reads only what is still waiting.
            models.Index(
                fields=["created_at"],
                name="audit_waiting_fan_out_idx",
                condition=models.Q(fanned_out_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.subject_type.model}#{self.subject_id}"


class WebhookEndpoint(models.Model):
    """Where a workspace wants its events sent, signed per Standard Webhooks."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    # The signing secret ("whsec_…"), encrypted like credentials (accounts/crypto.py).
    # Shown once, when it is made; never in the admin, API or logs afterwards.
    secret = models.TextField(editable=False)
    events = models.JSONField(
        default=list, blank=True, help_text="Event types wanted; empty means every event."
    )
    active = models.BooleanField(default=True)
    failure_count = models.PositiveIntegerField(
        default=0, help_text="Deliveries given up on in a row; reset by any success."
    )
    disabled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["workspace", "url", "id"]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return not self.events or event_type in self.events


class WebhookDelivery(models.Model):
    """One event for one endpoint: attempted until the receiver says 2xx, or a day passed."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(AuditEvent, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    # What went wrong, in words; never a header or the secret.
    last_error = models.TextField(blank=True)
    next_try_at = models.DateTimeField(null=True, blank=True)
    # Set while a worker sends it (compare-and-set), so two workers never send at once.
    sending_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once")
        ]
        indexes = [
            models.Index(
                fields=["next_try_at"],
                name="webhook_delivery_due_idx",
                condition=models.Q(status="pending"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint}"


class Notification(models.Model):
    """Something a member should know, in the admin and by e-mail.

    A burst of the same kind about the same thing (failures of one account) is one
    notification whose `count` grows while it is unread.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=64)
    # What a burst is grouped by, e.g. "account:7".
    group_key = models.CharField(max_length=100)
    title = models.CharField(max_length=300)
    link = models.CharField(max_length=300, help_text="The object's page in the admin.")
    count = models.PositiveIntegerField(default=1)
    event = models.ForeignKey(AuditEvent, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            # One open notification per burst: the fan-out adds to it.
            models.UniqueConstraint(
                fields=["recipient", "kind", "group_key"],
                condition=models.Q(read_at__isnull=True),
                name="notification_one_open_per_burst",
            )
        ]
        indexes = [
            models.Index(
                fields=["recipient"],
                name="notification_unread_idx",
                condition=models.Q(read_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return self.title


class NotificationPreference(models.Model):
    """A member's choice for one kind: in the admin, by e-mail. No row: both on."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=64)
    in_admin = models.BooleanField(default=True)
    by_email = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_once")
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind}"


class FollowerCount(models.Model):
    """The account's follower count as its network gave it at one moment.

    The profile cache (`SocialAccount.followers_count`) keeps only the latest; this keeps
    each reading, so analytics can draw the count over time.
    """

    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="+")
    recorded_at = models.DateTimeField()
    followers = models.PositiveIntegerField()

    class Meta:
        ordering = ["account", "recorded_at"]
        indexes = [
            models.Index(fields=["account", "recorded_at"], name="follower_count_account_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.followers} followers of account {self.account_id} at {self.recorded_at}"


class WorkspaceApiKey(AbstractAPIKey):
    """A key an integration uses to act in one workspace, within its scopes.

    Only a prefix and a hash are kept (djangorestframework-api-key); the key itself is
    shown once, when it is made. What each scope allows is accounts/permissions.py's.
    """

    class Scope(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Write: compose, schedule, change plans"
        PUBLISH = "publish", "Publish: publish now, retry, cancel, mark published, delete"
        ADMIN = "admin", "Admin: accounts, keys, webhooks"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="api_keys")
    scopes = models.JSONField(default=list, help_text="Any of read, write, publish, admin.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def __repr__(self) -> str:
        return f"<WorkspaceApiKey {self.prefix} workspace={self.workspace_id}>"


class IdempotentRequest(models.Model):
    """The first answer to a request sent with an `Idempotency-Key`, kept a day for repeats.

    One per (caller, key): the caller is an API key (`key:<prefix>`) or a person
    (`user:<id>`), and a key's workspace is kept with it. `fingerprint` is a hash of
    the method, path and body, so the same key with another request is refused.
    """

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"

    caller = models.CharField(max_length=80)
    key = models.CharField(max_length=255)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, null=True, blank=True)
    fingerprint = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["caller", "key"], name="idempotent_request_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.caller} {self.key}"
