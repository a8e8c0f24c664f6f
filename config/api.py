from django.urls import path
from rest_framework.routers import DefaultRouter

from accounts.api import (
    BlueskyConnectView,
    LinkedInConnectView,
    MastodonConnectView,
    MetaConnectView,
    XConnectView,
)
from publishing.api import JobPostView
from scheduling.api import AccountSlotsView, ScheduleViewSet

router = DefaultRouter()
router.register("schedules", ScheduleViewSet, basename="schedule")

urlpatterns = [
    path("accounts/<int:account_id>/slots/", AccountSlotsView.as_view(), name="account-slots"),
    path("jobs/<int:job_id>/post/", JobPostView.as_view(), name="job-post"),
    path("x/connect/", XConnectView.as_view(), name="x-connect"),
    path("bluesky/connect/", BlueskyConnectView.as_view(), name="bluesky-connect"),
    path("mastodon/connect/", MastodonConnectView.as_view(), name="mastodon-connect"),
    path("facebook/connect/", MetaConnectView.as_view(), name="facebook-connect"),
    path(
        "instagram/connect/",
        MetaConnectView.as_view(network="instagram"),
        name="instagram-connect",
    ),
    path("linkedin/connect/", LinkedInConnectView.as_view(), name="linkedin-connect"),
    *router.urls,
]
