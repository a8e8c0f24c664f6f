from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("x/connect/", views.x_connect, name="x-connect"),
    # X_REDIRECT_URI points here, character for character.
    path("x/callback/", views.x_callback, name="x-callback"),
]
