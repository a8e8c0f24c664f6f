from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularSwaggerView

from config.api_errors import api_not_found
from config.api_schema import SchemaView
from posts import views as posts_views
from publishing import views as publishing_views

admin.site.site_header = "Kairos"
admin.site.site_title = "Kairos"
admin.site.index_title = "Schedule and publish"

urlpatterns = [
    # People start in the admin; the site has no page of its own.
    path("", RedirectView.as_view(pattern_name="admin:index"), name="root"),
    # The calendar is an admin page; admin_view asks for a staff sign-in as the admin does.
    path("admin/calendar/", admin.site.admin_view(publishing_views.calendar), name="calendar"),
    path(
        "admin/calendar/feed/",
        admin.site.admin_view(publishing_views.calendar_feed),
        name="calendar-feed",
    ),
    path(
        "admin/calendar/move/",
        admin.site.admin_view(publishing_views.calendar_move),
        name="calendar-move",
    ),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("healthz", publishing_views.health, name="health"),
    path("readyz", publishing_views.ready, name="ready"),
    path("info", publishing_views.info, name="info"),
    path("metrics", publishing_views.metrics, name="metrics"),
    path("sandbox/", include("publishing.urls_sandbox")),
    path("library/<int:asset_id>/", posts_views.media_file, name="media-file"),
    # Signed and short-lived, for networks that download a post's files (posts/media_urls.py).
    path("library/signed/<str:token>/", posts_views.media_file_signed, name="media-signed"),
    path("api/v1/", include("config.api")),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # Last: whatever else is under /api/ is a JSON 404, never the site's HTML page.
    re_path(r"^api/(?P<rest>.*)$", api_not_found, name="api-not-found"),
]
