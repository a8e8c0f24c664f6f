from django.db import models

from publishing.models import PublishJob


class MetricsSnapshot(models.Model):
    """What a published post's numbers were at one moment after publishing."""

    job = models.ForeignKey(PublishJob, on_delete=models.CASCADE, related_name="metrics")
    due_at = models.DateTimeField(help_text="When this snapshot was planned (1 h, 6 h, … after).")
    collected_at = models.DateTimeField()
    impressions = models.PositiveBigIntegerField(null=True, blank=True)
    likes = models.PositiveBigIntegerField(null=True, blank=True)
    reposts = models.PositiveBigIntegerField(null=True, blank=True)
    replies = models.PositiveBigIntegerField(null=True, blank=True)
    quotes = models.PositiveBigIntegerField(null=True, blank=True)
    bookmarks = models.PositiveBigIntegerField(null=True, blank=True)
    # Only for the account's own posts of the last 30 days, when the token allows.
    link_clicks = models.PositiveBigIntegerField(null=True, blank=True)
    profile_clicks = models.PositiveBigIntegerField(null=True, blank=True)
    engagements = models.PositiveBigIntegerField(null=True, blank=True)
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["job", "due_at"]
        constraints = [
            models.UniqueConstraint(fields=["job", "due_at"], name="metrics_snapshot_unique_due"),
        ]

    # The numbers a snapshot holds, in the order they are shown and sent.
    NUMBERS = (
        "impressions",
        "likes",
        "reposts",
        "replies",
        "quotes",
        "bookmarks",
        "link_clicks",
        "profile_clicks",
        "engagements",
    )

    def __str__(self) -> str:
        return f"Metrics of job {self.job_id} at {self.due_at:%Y-%m-%d %H:%M}"
