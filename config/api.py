from django.urls import path
from rest_framework.routers import DefaultRouter

from accounts.api import (
    BlueskyConnectView,
    MastodonConnectView,
    SocialAccountViewSet,
    XConnectView,
)
from posts.api import MediaViewSet, PostViewSet
from publishing.api import JobPostView, JobViewSet
from scheduling.api import AccountSlotsView, ScheduleActionsViewSet

router = DefaultRouter()
router.register("schedules", ScheduleActionsViewSet, basename="schedule")
router.register("posts", PostViewSet, basename="post")
router.register("jobs", JobViewSet, basename="job")
router.register("media", MediaViewSet, basename="media")
router.register("accounts", SocialAccountViewSet, basename="account")

urlpatterns = [
    path("accounts/<int:account_id>/slots/", AccountSlotsView.as_view(), name="account-slots"),
    path("jobs/<int:job_id>/post/", JobPostView.as_view(), name="job-post"),
    path("x/connect/", XConnectView.as_view(), name="x-connect"),
    path("bluesky/connect/", BlueskyConnectView.as_view(), name="bluesky-connect"),
    path("mastodon/connect/", MastodonConnectView.as_view(), name="mastodon-connect"),
    *router.urls,
]
