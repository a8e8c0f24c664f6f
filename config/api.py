from django.urls import path
from rest_framework.routers import DefaultRouter

from accounts.api import (
    AuditEventViewSet,
    BlueskyConnectView,
    MastodonConnectView,
    SocialAccountViewSet,
    XConnectView,
)
from posts.api import CampaignViewSet, MediaViewSet, PostViewSet, TagViewSet
from publishing.api import AttemptViewSet, JobPostView, JobViewSet
from scheduling.api import AccountSlotsView, ScheduleActionsViewSet

router = DefaultRouter()
router.register("schedules", ScheduleActionsViewSet, basename="schedule")
router.register("posts", PostViewSet, basename="post")
router.register("jobs", JobViewSet, basename="job")
router.register("media", MediaViewSet, basename="media")
router.register("accounts", SocialAccountViewSet, basename="account")
router.register("tags", TagViewSet, basename="tag")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("attempts", AttemptViewSet, basename="attempt")
router.register("audit", AuditEventViewSet, basename="audit")

urlpatterns = [
    path("accounts/<int:account_id>/slots/", AccountSlotsView.as_view(), name="account-slots"),
    path("jobs/<int:job_id>/post/", JobPostView.as_view(), name="job-post"),
    path("x/connect/", XConnectView.as_view(), name="x-connect"),
    path("bluesky/connect/", BlueskyConnectView.as_view(), name="bluesky-connect"),
    path("mastodon/connect/", MastodonConnectView.as_view(), name="mastodon-connect"),
    *router.urls,
]
