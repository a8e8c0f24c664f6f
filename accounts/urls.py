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
    path("facebook/connect/", views.facebook_connect, name="facebook-connect"),
    # FACEBOOK_REDIRECT_URI points here, character for character.
    path("facebook/callback/", views.facebook_callback, name="facebook-callback"),
    path("instagram/connect/", views.instagram_connect, name="instagram-connect"),
    # INSTAGRAM_REDIRECT_URI points here, character for character.
    path("instagram/callback/", views.instagram_callback, name="instagram-callback"),
    path("linkedin/connect/", views.linkedin_connect, name="linkedin-connect"),
    # LINKEDIN_REDIRECT_URI points here, character for character.
    path("linkedin/callback/", views.linkedin_callback, name="linkedin-callback"),
    # A sign-in that brought several accounts (Facebook Pages): staff choose which.
    path("<str:network>/choose/<str:offer>/", views.connect_choose, name="connect-choose"),
]
