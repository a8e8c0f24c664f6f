from datetime import datetime
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from accounts.models import SocialAccount, validate_timezone_name
from accounts.timezones import wall_to_utc, zone_get
from posts.models import Post
from scheduling.recurrence import Rule, rule_from_fields


class Schedule(models.Model):
    """When a post goes out: what the person meant (wall time + zone) and the next instant.

    `next_occurrence_at` is derived from the wall time, the zone and the rule, and
    is stored (indexed) because the dispatch tick looks for due schedules by it.
    """

    class Kind(models.TextChoices):
        ONCE = "once", "Once"
        INTERVAL = "interval", "Every N minutes, hours, days or weeks"
        CRON = "cron", "Cron expression"
        RRULE = "rrule", "Recurrence rule (RFC 5545)"

    class Unit(models.TextChoices):
        MINUTES = "minutes", "minutes"
        HOURS = "hours", "hours"
        DAYS = "days", "days"
        WEEKS = "weeks", "weeks"

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
    every = models.PositiveIntegerField(null=True, blank=True, help_text="Interval: how many.")
    unit = models.CharField(
        max_length=8,
        choices=Unit.choices,
        blank=True,
        help_text="Interval: minutes and hours are real time; days and weeks keep the wall time.",
    )
    cron = models.CharField(
        max_length=120, blank=True, help_text="Five fields, in the zone: 0 9 * * MON-FRI."
    )
    rrule = models.TextField(
        blank=True, help_text="The RRULE line only, e.g. FREQ=WEEKLY;BYDAY=TU,TH;COUNT=10."
    )
    exdates = models.JSONField(
        default=list, blank=True, help_text="RRULE: local wall times to leave out (ISO format)."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    next_occurrence_at = models.DateTimeField(null=True, blank=True)
    last_occurrence_at = models.DateTimeField(null=True, blank=True)
    occurrence_count = models.PositiveIntegerField(default=0)
    series_ends_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="RRULE with COUNT: its last occurrence (UTC), counted once when set.",
    )
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
    def zone(self) -> ZoneInfo:
        return zone_get(self.timezone)

    @property
    def rule(self) -> Rule:
        rule, _ = rule_from_fields(
            kind=self.kind,
            start=self.start_wall,
            timezone=self.timezone,
            every=self.every,
            unit=self.unit,
            cron=self.cron,
            rrule=self.rrule,
            exdates=[datetime.fromisoformat(value) for value in self.exdates],
            count_ends_at=self.series_ends_at,
        )
        return rule

    @property
    def start_wall(self) -> datetime:
        return datetime.combine(self.local_date, self.local_time)

    @property
    def start_utc(self) -> datetime:
        return wall_to_utc(self.start_wall, zone_get(self.timezone))


class OccurrenceChange(models.Model):
    """One occurrence of a recurring schedule, skipped or moved by staff.

    The rule is left as it is; the occurrence at `original_at` is left out, and a
    moved one happens at `moved_to` instead.
    """

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="changes")
    original_at = models.DateTimeField(help_text="The occurrence the rule gives (UTC).")
    moved_to = models.DateTimeField(
        null=True, blank=True, help_text="Empty: skipped. Otherwise when it happens instead."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["original_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "original_at"], name="occurrence_change_unique"
            ),
        ]

    def __str__(self) -> str:
        if self.moved_to is None:
            return f"Skip {self.original_at:%Y-%m-%d %H:%M} UTC"
        return f"Move {self.original_at:%Y-%m-%d %H:%M} → {self.moved_to:%Y-%m-%d %H:%M} UTC"


class QueueSlot(models.Model):
    """A weekly posting slot of an account, in its workspace's zone."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="slots")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    local_time = models.TimeField()

    class Meta:
        ordering = ["account", "weekday", "local_time"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "weekday", "local_time"], name="queue_slot_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.local_time:%H:%M}"

    def clean(self) -> None:
        # The constraint guards the table; this names the field to change, for the
        # admin's form and the API alike (both run full_clean).
        if self.account_id is None or self.weekday is None or self.local_time is None:
            return
        taken = QueueSlot.objects.filter(
            account_id=self.account_id, weekday=self.weekday, local_time=self.local_time
        ).exclude(pk=self.pk)
        if taken.exists():
            raise ValidationError(
                {
                    "local_time": f"The account has a slot on {self.get_weekday_display()} at "
                    f"{self.local_time:%H:%M} already; choose another time or day."
                }
            )


class PostingLimit(models.Model):
    """How often an account may post: spacing and caps, checked when scheduling and
    again at dispatch (a job that would break one waits for the next allowed time)."""

    account = models.OneToOneField(
        SocialAccount, on_delete=models.CASCADE, related_name="posting_limit"
    )
    min_spacing = models.DurationField(
        null=True, blank=True, help_text="At least this long between two posts."
    )
    max_per_hour = models.PositiveIntegerField(null=True, blank=True)
    max_per_day = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Posting limits of {self.account}"
