from django.db import models

from publishing.models import PublishJob


class PostNumbers(models.Model):
    """The numbers a network gives of a post (None where it gives none)."""

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

    class Meta:
        abstract = True


class MetricsSnapshot(PostNumbers):
    """What a published post's numbers were at one moment after publishing."""

    job = models.ForeignKey(PublishJob, on_delete=models.CASCADE, related_name="metrics")
    due_at = models.DateTimeField(help_text="When this snapshot was planned (1 h, 6 h, … after).")
    collected_at = models.DateTimeField()
    raw = models.JSONField(default=dict, blank=True)

    class Meta(PostNumbers.Meta):
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


class LatestMetrics(PostNumbers):
    """A job's latest snapshot (the one planned last), one row per job: what stats read.

    Stats of an account read thousands of posts' latest numbers; finding each among
    its twenty-odd snapshots was most of their time. Database triggers keep this row
    (migration 0003_latest_metrics): every insert, update or delete of snapshots,
    whoever makes it (collection, the demo, retention, a job's cascade, a bulk COPY),
    leaves here the snapshot with the greatest `due_at` of the job, or no row.
    Nothing in Python writes it.
    """

    job = models.OneToOneField(
        PublishJob, on_delete=models.CASCADE, primary_key=True, related_name="latest_metrics"
    )
    due_at = models.DateTimeField()

    class Meta(PostNumbers.Meta):
        verbose_name_plural = "latest metrics"

    def __str__(self) -> str:
        return f"Latest metrics of job {self.job_id} ({self.due_at:%Y-%m-%d %H:%M})"
