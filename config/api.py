from django.urls import path
from rest_framework.routers import DefaultRouter

from accounts.api import (
    ApiKeyViewSet,
    AuditEventViewSet,
    BlueskyConnectView,
    LinkedInConnectView,
    MastodonConnectView,
    MetaConnectView,
    SocialAccountViewSet,
    XConnectView,
)
from analytics.api import (
    AccountReportView,
    CampaignReportView,
    MetricsSnapshotViewSet,
    PostReportView,
    TagReportView,
    WorkspaceReportView,
)
from posts.api import CampaignViewSet, MediaViewSet, PostViewSet, TagViewSet
from publishing.api import (
    AttemptViewSet,
    JobPostView,
    JobViewSet,
    WebhookDeliveryViewSet,
    WebhookEndpointViewSet,
)
from scheduling.api import (
    AccountSlotsView,
    PostingLimitViewSet,
    QueueSlotViewSet,
    ScheduleActionsViewSet,
)

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
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")
router.register("queue-slots", QueueSlotViewSet, basename="queue-slot")
router.register("posting-limits", PostingLimitViewSet, basename="posting-limit")
router.register("metrics", MetricsSnapshotViewSet, basename="metrics-snapshot")
router.register("api-keys", ApiKeyViewSet, basename="api-key")

urlpatterns = [
    path("accounts/<int:account_id>/slots/", AccountSlotsView.as_view(), name="account-slots"),
    path("jobs/<int:job_id>/post/", JobPostView.as_view(), name="job-post"),
    path(
        "analytics/accounts/<int:account_id>/",
        AccountReportView.as_view(),
        name="analytics-account",
    ),
    path("analytics/jobs/<int:job_id>/", PostReportView.as_view(), name="analytics-post"),
    path(
        "analytics/campaigns/<int:campaign_id>/",
        CampaignReportView.as_view(),
        name="analytics-campaign",
    ),
    path("analytics/tags/<int:tag_id>/", TagReportView.as_view(), name="analytics-tag"),
    path(
        "analytics/workspaces/<int:workspace_id>/",
        WorkspaceReportView.as_view(),
        name="analytics-workspace",
    ),
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
