"""`UserByNameField`: an owner names a person exactly, by username or email."""

import pytest
from django.core.exceptions import ValidationError

from accounts.admin import UserByNameField
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_person_is_found_by_username_or_email_whatever_the_case():
    dana = UserFactory(username="dana", email="dana@acme.example")
    field = UserByNameField()
    assert field.clean(" Dana ") == dana
    assert field.clean("DANA@acme.example") == dana


def test_no_one_an_inactive_person_or_two_people_are_refused_saying_why():
    UserFactory(username="gone", is_active=False)
    UserFactory(username="lee", email="team@acme.example")
    UserFactory(username="kim", email="team@acme.example")
    field = UserByNameField()
    for name in ("nobody", "gone"):
        with pytest.raises(ValidationError, match=f"No one uses “{name}”"):
            field.clean(name)
    with pytest.raises(ValidationError, match=r"Several people use “team@acme\.example”"):
        field.clean("team@acme.example")
    assert field.clean("kim").username == "kim"


def test_a_saved_member_shows_by_username_and_is_unchanged_when_left_so():
    dana = UserFactory(username="dana")
    field = UserByNameField()
    assert field.prepare_value(dana.pk) == "dana"
    assert not field.has_changed(dana.pk, "dana")
    assert field.has_changed(dana.pk, "lee")
