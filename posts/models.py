from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from accounts.models import SocialAccount, Workspace, validate_timezone_name


class Tag(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=60)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="tag_unique")]

    def __str__(self) -> str:
        return self.name


class Campaign(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField()
    timezone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_timezone_name],
        help_text="Empty: the workspace's zone.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="campaign_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # The constraint below guards the table; this names the field to change, for
        # the admin's form and the API alike (both run full_clean).
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError(
                {
                    "ends_on": "The campaign ends before it starts; give an end on or after "
                    f"{self.starts_on:%Y-%m-%d}."
                }
            )


class MediaAsset(models.Model):
    class Kind(models.TextChoices):
        IMAGE = "image", "Image"
        GIF = "gif", "GIF"
        VIDEO = "video", "Video"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="media")
    file = models.FileField(upload_to="media/%Y/%m/")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    mime_type = models.CharField(max_length=100)
    size_bytes = models.PositiveBigIntegerField()
    alt_text = models.TextField(blank=True, help_text="Read aloud by screen readers.")
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.file.name


class PostQuerySet(models.QuerySet):
    def alive(self) -> "PostQuerySet":
        return self.filter(deleted_at__isnull=True)


class Post(models.Model):
    """What to say (its parts), where (its targets) and, through its schedule, when."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        PUBLISHING = "publishing", "Publishing"
        PUBLISHED = "published", "Published"
        PARTIALLY_PUBLISHED = "partially_published", "Partially published"
        FAILED = "failed", "Failed"
        NEEDS_REVIEW = "needs_review", "Needs review"
        CANCELLED = "cancelled", "Cancelled"
        MISSED = "missed", "Missed"

    class Approval(models.TextChoices):
        # The transitions are in posts/approval.py.
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        APPROVED = "approved", "Approved"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"

    class Priority(models.IntegerChoices):
        # Lower goes first, as Celery's priorities on Redis do.
        URGENT = 0, "Urgent"
        HIGH = 3, "High"
        NORMAL = 5, "Normal"
        LOW = 8, "Low"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.DRAFT)
    priority = models.PositiveSmallIntegerField(
        choices=Priority.choices,
        default=Priority.NORMAL,
        help_text="Orders due posts when many are due at once or a rate limit holds them.",
    )
    approval = models.CharField(
        max_length=20,
        choices=Approval.choices,
        default=Approval.DRAFT,
        help_text="Where the post is in review; only approved posts go out in a workspace "
        "whose posts need approval.",
    )
    text_variants = models.JSONField(
        default=list,
        blank=True,
        help_text="Recurring posts: other texts for part 1, used in turn (X refuses repeats).",
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="posts"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="posts")
    accounts = models.ManyToManyField(SocialAccount, through="Target", related_name="posts")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The approval queue and the dashboard's count of posts in review.
            models.Index(fields=["workspace", "approval"], name="post_workspace_approval"),
            # The post list: a workspace's live posts newest first (the page read in the
            # index's order, stopped at its LIMIT) and their count from the index alone.
            models.Index(
                fields=["workspace", "-created_at", "-id"],
                condition=Q(deleted_at__isnull=True),
                name="post_workspace_recent_idx",
            ),
        ]

    def __str__(self) -> str:
        first = next(iter(self.parts.all()), None)
        excerpt = first.text[:60] if first else ""
        return f"#{self.pk} {excerpt}".strip()

    @property
    def is_thread(self) -> bool:
        return self.parts.count() > 1


class PostPart(models.Model):
    """One segment of a post: a plain post has one, a thread has several, in order."""

    # No index of its own: the unique (post, position) index leads with it.
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="parts", db_index=False)
    position = models.PositiveSmallIntegerField(default=0)
    text = models.TextField()
    media = models.ManyToManyField(MediaAsset, through="PartMedia", blank=True)

    class Meta:
        ordering = ["post", "position"]
        constraints = [
            models.UniqueConstraint(fields=["post", "position"], name="post_part_unique_position"),
        ]

    def __str__(self) -> str:
        return f"Part {self.position + 1}"


class PartMedia(models.Model):
    part = models.ForeignKey(PostPart, on_delete=models.CASCADE)
    asset = models.ForeignKey(MediaAsset, on_delete=models.PROTECT)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["part", "position"]
        constraints = [
            models.UniqueConstraint(fields=["part", "asset"], name="part_media_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.asset} in {self.part}"


class Target(models.Model):
    """A post going to one account, optionally with text of its own."""

    # No index of its own: the unique (post, account) index leads with it.
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="targets", db_index=False)
    account = models.ForeignKey(SocialAccount, on_delete=models.PROTECT, related_name="targets")
    text_override = models.TextField(
        blank=True, help_text="Replaces the first part's text for this account only."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post", "account"], name="target_unique_account"),
        ]

    def __str__(self) -> str:
        return f"{self.post_id} → {self.account}"
