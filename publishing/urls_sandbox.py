from django.urls import path

from publishing import views

urlpatterns = [
    path("<str:handle>/<int:post_id>/", views.sandbox_post, name="sandbox-post"),
]
