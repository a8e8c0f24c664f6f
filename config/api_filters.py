"""The API's list filters: strict about what they are sent, and naming a row by its id
without telling whether the row exists.

A filter sent without a value (`?occurrence_before=`), a boolean sent anything but true or
false (`?deleted=null`) or a number that is not whole (`?tag=0.5`) is a 400 naming it;
django-filter would ignore the first two and list everything, and match nothing for the
third.

django-filter's default for a foreign key is a choice among every row of the related
table: an id of another workspace's row filters to an empty page (200), an unused id is
refused (400, "not one of the available choices"), so the difference would tell a caller
which ids exist in workspaces it may not see. Here a relation is filtered by its id as a
plain number: either way the answer is the page of the caller's rows that match, empty.
"""

import django_filters
from django import forms
from django.db import models
from django_filters import rest_framework as filters


class WholeNumberFilter(django_filters.NumberFilter):
    """A filter by a whole number (an id, a priority), or a 400 naming the parameter."""

    field_class = forms.IntegerField


RELATIONS = (
    models.ForeignKey,
    models.OneToOneField,
    models.ManyToManyField,
    models.OneToOneRel,
    models.ManyToOneRel,
    models.ManyToManyRel,
)

WHOLE_NUMBERS = (
    models.AutoField,
    models.BigAutoField,
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveBigIntegerField,
    models.PositiveSmallIntegerField,
)


class FilterSet(filters.FilterSet):
    """Every API list's filters: strict (the module's docstring), a relation filtered by
    its id and a whole-number field by a whole number (WholeNumberFilter)."""

    FILTER_DEFAULTS = {
        **filters.FilterSet.FILTER_DEFAULTS,
        **{field: {"filter_class": WholeNumberFilter} for field in RELATIONS + WHOLE_NUMBERS},
    }

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name, field in self.filters.items():
            if name not in self.data or name in self.form.errors:
                continue
            values = self.data.getlist(name)
            if not any(value.strip() for value in values):
                self.form.add_error(name, "Give a value, or leave this parameter out.")
                valid = False
            elif isinstance(field, django_filters.BooleanFilter) and not all(
                value.lower() in ("true", "false") for value in values
            ):
                self.form.add_error(name, "Send true or false.")
                valid = False
        return valid


class FilterBackend(filters.DjangoFilterBackend):
    """DRF's django-filter backend, making `filterset_fields` lists from our FilterSet."""

    filterset_base = FilterSet
