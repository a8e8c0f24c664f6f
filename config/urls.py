from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from publishing import views as publishing_views

admin.site.site_header = "Kairos"
admin.site.site_title = "Kairos"
admin.site.index_title = "Schedule and publish"

urlpatterns = [
    # People start in the admin; the site has no page of its own.
    path("", RedirectView.as_view(pattern_name="admin:index"), name="root"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("healthz", publishing_views.health, name="health"),
    path("sandbox/", include("publishing.urls_sandbox")),
    path("api/v1/", include("config.api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
