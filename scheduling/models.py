from datetime import datetime

from django.db import models
from django.db.models import Q

from accounts.models import validate_timezone_name
from posts.models import Post
from scheduling.timezones import wall_to_utc, zone_get


class Schedule(models.Model):
    """When a post goes out: what the person meant (wall time + zone) and the next instant.

    `next_occurrence_at` is derived from the wall time, the zone and the rule, and
    is stored (indexed) because the dispatch tick looks for due schedules by it.
    """

    class Kind(models.TextChoices):
        ONCE = "once", "Once"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        FINISHED = "finished", "Finished"
        CANCELLED = "cancelled", "Cancelled"

    post = models.OneToOneField(Post, on_delete=models.CASCADE, related_name="schedule")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.ONCE)
    local_date = models.DateField(help_text="Date on the wall clock of the zone.")
    local_time = models.TimeField(help_text="Time on the wall clock of the zone.")
    timezone = models.CharField(max_length=64, validators=[validate_timezone_name])
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    next_occurrence_at = models.DateTimeField(null=True, blank=True)
    last_occurrence_at = models.DateTimeField(null=True, blank=True)
    occurrence_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # The tick's only question: which active schedules are due? A partial
            # index keeps it small however many finished schedules pile up.
            models.Index(
                fields=["next_occurrence_at"],
                condition=Q(status="active"),
                name="schedule_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.start_wall:%Y-%m-%d %H:%M} {self.timezone}"

    @property
    def start_wall(self) -> datetime:
        return datetime.combine(self.local_date, self.local_time)

    @property
    def start_utc(self) -> datetime:
        return wall_to_utc(self.start_wall, zone_get(self.timezone))
