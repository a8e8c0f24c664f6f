from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("x/connect/", views.x_connect, name="x-connect"),
    # X_REDIRECT_URI points here, character for character.
    path("x/callback/", views.x_callback, name="x-callback"),
    # Networks connected from a form of fields (NetworkAdapter.connect_fields): Bluesky.
    path("connect/<str:network>/", views.account_connect_form, name="connect-form"),
    path("mastodon/connect/", views.mastodon_connect, name="mastodon-connect"),
    # MASTODON_REDIRECT_URI points here; each instance's app is registered with it.
    path("mastodon/callback/", views.mastodon_callback, name="mastodon-callback"),
]
