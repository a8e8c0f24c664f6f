"""The recurrence engine: when a schedule's posts go out. Pure functions, no models.

A rule (once, interval, cron, RRULE) is written in local wall time and evaluated in
the IANA zone the person chose; each wall time becomes an instant by the one rule in
accounts/timezones.py (a gap moves forward by the gap, an overlap takes its first
instant). See occurrences.py for what that means for each kind of rule.
"""

from scheduling.recurrence.describe import rule_describe
from scheduling.recurrence.occurrences import (
    occurrence_next,
    occurrences_between,
    occurrences_next,
    rule_count_end,
)
from scheduling.recurrence.rules import (
    INTERVAL_UNITS,
    RULE_KINDS,
    CronRule,
    IntervalRule,
    IntervalUnit,
    OnceRule,
    RRuleRule,
    Rule,
    RuleKind,
    rule_from_fields,
    rule_validate,
)

__all__ = [
    "INTERVAL_UNITS",
    "RULE_KINDS",
    "CronRule",
    "IntervalRule",
    "IntervalUnit",
    "OnceRule",
    "RRuleRule",
    "Rule",
    "RuleKind",
    "occurrence_next",
    "occurrences_between",
    "occurrences_next",
    "rule_count_end",
    "rule_describe",
    "rule_from_fields",
    "rule_validate",
]
