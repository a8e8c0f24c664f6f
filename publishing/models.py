from django.db import models
from django.db.models import Q

from accounts.models import SocialAccount
from posts.models import Post


class JobStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    PUBLISHED = "published", "Published"
    FAILED = "failed", "Failed"
    NEEDS_REVIEW = "needs_review", "Needs review"
    CANCELLED = "cancelled", "Cancelled"
    MISSED = "missed", "Missed"


class PublishJob(models.Model):
    """One post going to one account for one occurrence. The unit of the guarantee.

    Status changes only through `publishing.states.job_transition`, a
    compare-and-set UPDATE, never by saving a loaded instance.
    """

    # No index of its own: the unique (post, account, occurrence_at) index leads with it.
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="jobs", db_index=False)
    account = models.ForeignKey(SocialAccount, on_delete=models.PROTECT, related_name="jobs")
    occurrence_at = models.DateTimeField(help_text="The instant this occurrence was due.")
    occurrence_number = models.PositiveIntegerField(
        default=1, help_text="Which occurrence of its schedule this is (1 for the first)."
    )
    priority = models.PositiveSmallIntegerField(default=5, help_text="Copied from the post.")
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING)
    due_at = models.DateTimeField(
        help_text="When the job is meant to go out: the occurrence, or when staff asked "
        "again. The missed-post window counts from here."
    )
    next_attempt_at = models.DateTimeField(help_text="When a pending job is due to be sent.")
    lease_expires_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Queued: sent again after this. Running: recovered after this.",
    )
    attempt_count = models.PositiveSmallIntegerField(default=0)
    # How often the current queuing was sent to the broker; each resend doubles the
    # lease, so messages that merely wait behind a backlog are not sent again and again.
    send_count = models.PositiveSmallIntegerField(default=0)
    # Raised by every claim of a running job (a worker starting an attempt, the
    # sweeper taking it for reconciliation). Writes about a running job carry the
    # token they were given, so a holder whose lease was taken writes nothing.
    claim_token = models.PositiveIntegerField(default=0)
    # Look-ups on the network that could not say whether the post exists.
    reconcile_count = models.PositiveSmallIntegerField(default=0)
    external_id = models.CharField(max_length=64, blank=True)
    external_url = models.URLField(max_length=500, blank=True)
    # Ids of the thread segments already on the network, in order, saved one by one.
    part_external_ids = models.JSONField(default=list, blank=True)
    # Media already uploaded for this job ({asset id: {"media_id", "expires_at"}}), so
    # a retry within their lifetime does not upload again.
    media_uploads = models.JSONField(default=dict, blank=True)
    metrics_due_at = models.DateTimeField(
        null=True, blank=True, help_text="When the next metrics snapshot of the post is due."
    )
    error_kind = models.CharField(max_length=16, blank=True)
    error_message = models.TextField(blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-occurrence_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "account", "occurrence_at"], name="publish_job_unique_occurrence"
            ),
        ]
        indexes = [
            # Due jobs, most urgent first: read in index order, stopping at the batch.
            models.Index(
                fields=["priority", "next_attempt_at"],
                condition=Q(status="pending"),
                name="publish_job_due_idx",
            ),
            models.Index(
                fields=["lease_expires_at"],
                condition=Q(status__in=["queued", "running"]),
                name="publish_job_lease_idx",
            ),
            models.Index(
                fields=["metrics_due_at"],
                condition=Q(status="published"),
                name="publish_job_metrics_due_idx",
            ),
            # The dashboard counts the jobs that need a person, of a few accounts.
            models.Index(
                fields=["account", "status", "due_at"],
                condition=Q(status__in=["needs_review", "failed", "missed"]),
                name="publish_job_attention_idx",
            ),
            # The calendar reads an account's jobs in a range of occurrences.
            models.Index(fields=["account", "occurrence_at"], name="publish_job_account_occ_idx"),
            # Posting limits count what an account published recently.
            models.Index(
                fields=["account", "published_at"],
                condition=Q(status="published"),
                name="publish_job_account_sent_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Job {self.pk}: post {self.post_id} → {self.account} ({self.status})"


class PublishAttempt(models.Model):
    """One try at the network: written before the call (intent), completed after it."""

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Published"
        RETRY = "retry", "Will retry"
        FAILED = "failed", "Failed"
        UNCERTAIN = "uncertain", "Outcome unknown"

    # No index of its own: the unique (job, number) index leads with it.
    job = models.ForeignKey(
        PublishJob, on_delete=models.CASCADE, related_name="attempts", db_index=False
    )
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    error_kind = models.CharField(max_length=16, blank=True)
    error_message = models.TextField(blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    request_id = models.CharField(max_length=100, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["job", "number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "number"], name="publish_attempt_unique_number"),
        ]

    def __str__(self) -> str:
        return f"Attempt {self.number} of job {self.job_id}"


class SandboxPost(models.Model):
    """A post on the built-in sandbox network, which lives in Kairos's own database.

    Like a network that honours idempotency keys, the sandbox answers a repeated
    key with the post it already made.
    """

    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="+")
    idempotency_key = models.CharField(max_length=100, unique=True)
    text = models.TextField()
    in_reply_to = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Sandbox post {self.pk} by {self.account}"


class RateLimitWindow(models.Model):
    """What a network last said about one of its rate-limit windows, shared by all workers.

    `key` names whose window it is: an account (`account:<id>`) or the app
    (`app`). Rows are upserted from response headers; nothing else writes them.
    """

    network = models.CharField(max_length=16)
    key = models.CharField(max_length=64)
    endpoint = models.CharField(max_length=64)
    window = models.CharField(max_length=16, help_text="e.g. 15m or 24h")
    limit = models.PositiveIntegerField()
    remaining = models.PositiveIntegerField()
    resets_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["network", "key", "endpoint", "window"], name="rate_limit_window_unique"
            ),
        ]

    def __str__(self) -> str:
        left = f"{self.remaining}/{self.limit}"
        return f"{self.network} {self.key} {self.endpoint} {self.window}: {left} left"


class Heartbeat(models.Model):
    """When a process that must be alive for posts to go out last showed it was.

    Kept in the database, not the broker: Redis may lose its data, and the embedded
    default has no Redis. One row for the dispatch tick (written by whichever worker
    ran it) and one per worker process; publishing/heartbeats.py writes them.
    """

    class Kind(models.TextChoices):
        TICK = "tick", "Dispatch tick"
        WORKER = "worker", "Worker"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=200, help_text="Which tick or worker (host:pid).")
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "name"], name="heartbeat_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}: {self.seen_at:%Y-%m-%d %H:%M:%S}"
