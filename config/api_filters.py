"""List filters that name a row by its id, without telling whether the row exists.

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


class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


RELATIONS = (
    models.ForeignKey,
    models.OneToOneField,
    models.ManyToManyField,
    models.OneToOneRel,
    models.ManyToOneRel,
    models.ManyToManyRel,
)


class FilterSet(filters.FilterSet):
    """Every API list's filters: a relation is filtered by id (IdFilter)."""

    FILTER_DEFAULTS = {
        **filters.FilterSet.FILTER_DEFAULTS,
        **{relation: {"filter_class": IdFilter} for relation in RELATIONS},
    }


class FilterBackend(filters.DjangoFilterBackend):
    """DRF's django-filter backend, making `filterset_fields` lists from our FilterSet."""

    filterset_base = FilterSet
