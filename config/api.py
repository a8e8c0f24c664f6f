from django.urls import path
from rest_framework.routers import DefaultRouter

from accounts.api import (
    BlueskyConnectView,
    MastodonConnectView,
    MetaConnectView,
    XConnectView,
)
from analytics.api import (
    AccountReportView,
    CampaignReportView,
    PostReportView,
    TagReportView,
    WorkspaceReportView,
)
from publishing.api import JobPostView, WebhookDeliveryViewSet, WebhookEndpointViewSet
from scheduling.api import AccountSlotsView, ScheduleViewSet

router = DefaultRouter()
router.register("schedules", ScheduleViewSet, basename="schedule")
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")

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
    *router.urls,
]
