"""Posting limits: one rule for what a valid limit is, asked by the admin's form and
the services the API calls."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from accounts.models import AuditEvent
from scheduling.admin import PostingLimitForm
from scheduling.limits import (
    posting_limit_create,
    posting_limit_delete,
    posting_limit_problems,
    posting_limit_update,
)
from scheduling.models import PostingLimit
from tests.factories import SandboxAccountFactory


@pytest.mark.parametrize(
    ("values", "fields"),
    [
        ({"min_spacing": timedelta(minutes=15), "max_per_hour": 1, "max_per_day": 20}, set()),
        ({"min_spacing": None, "max_per_hour": None, "max_per_day": None}, set()),
        (
            {"min_spacing": timedelta(minutes=-1), "max_per_hour": None, "max_per_day": None},
            {"min_spacing"},
        ),
        (
            {"min_spacing": None, "max_per_hour": 0, "max_per_day": 0},
            {"max_per_hour", "max_per_day"},
        ),
    ],
)
def test_problems_name_each_field_to_change(values, fields):
    assert set(posting_limit_problems(**values)) == fields


@pytest.mark.django_db
def test_the_admin_form_refuses_what_the_rule_refuses():
    account = SandboxAccountFactory()
    form = PostingLimitForm(
        data={"account": account.pk, "max_per_day": "0", "min_spacing": "-00:05:00"}
    )
    assert not form.is_valid()
    assert set(form.errors) == {"max_per_day", "min_spacing"}
    assert "at least 1" in form.errors["max_per_day"][0]


@pytest.mark.django_db
def test_a_limit_is_made_once_per_account_changed_and_removed_with_an_audit_trail():
    account = SandboxAccountFactory()
    limit = posting_limit_create(account=account, actor=None, max_per_day=5)
    with pytest.raises(ValidationError) as refused:
        posting_limit_create(account=account, actor=None, max_per_hour=1)
    assert "account" in refused.value.message_dict
    with pytest.raises(ValidationError):
        posting_limit_update(limit=limit, actor=None, max_per_day=0)
    assert PostingLimit.objects.get().max_per_day == 5
    posting_limit_update(limit=PostingLimit.objects.get(), actor=None, max_per_day=6)
    posting_limit_delete(limit=PostingLimit.objects.get(), actor=None)
    assert not PostingLimit.objects.exists()
    changed = AuditEvent.objects.get(action="postinglimit.changed")
    assert changed.data["changes"] == {"max_per_day": ["5", "6"]}
    assert AuditEvent.objects.filter(action__startswith="postinglimit.").count() == 3
