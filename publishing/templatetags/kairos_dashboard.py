"""`{% kairos_dashboard %}`: the dashboard (publishing/dashboard.py) on the admin's index."""

from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils import timezone

from publishing.dashboard import dashboard_for

register = template.Library()


@register.inclusion_tag("admin/publishing/dashboard.html", takes_context=True)
def kairos_dashboard(context) -> dict:
    request = context["request"]
    dashboard = dashboard_for(user=request.user, now=timezone.now())
    return {
        "zone": timezone.get_current_timezone(),
        "upcoming": dashboard.upcoming,
        "attention": [
            (item, f"{reverse(item.changelist)}?{urlencode(item.query)}")
            for item in dashboard.attention
        ],
        "published": dashboard.published,
    }
