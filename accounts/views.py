"""Connecting network accounts: the page that starts a sign-in, the callback that ends it,
and the form for networks connected from fields the person fills in (Bluesky).

The rules (who may connect what, the sign-in's state) live in publishing/connect.py,
the exchange with the network in its adapter; these views only speak HTTP.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.debug import sensitive_post_parameters

from accounts.permissions import ACCOUNT_MANAGE, workspaces_where
from accounts.services import OAuthStateRefused
from publishing.connect import (
    social_account_connect_finish,
    social_account_connect_start,
    social_account_connect_with,
)
from publishing.networks import NetworkNotSupported, adapter_for
from publishing.networks.base import ConnectError, ConnectField

X_INTRO = (
    "Kairos sends you to X. Sign in there as the account to publish to, and choose "
    "“Authorize app”; X then sends you back here. You have 10 minutes."
)
MASTODON_INTRO = (
    "Kairos sends you to the account's Mastodon instance. Sign in there as the account to "
    "publish to, and choose “Authorize”; the instance then sends you back here. You have 10 "
    "minutes. The first account of an instance also registers Kairos there as an app."
)


class WorkspaceChoiceForm(forms.Form):
    workspace = forms.ModelChoiceField(
        queryset=None, empty_label=None, help_text="The workspace that will publish to it."
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["workspace"].queryset = workspaces_where(user=user, action=ACCOUNT_MANAGE)


class ConnectFieldsForm(WorkspaceChoiceForm):
    """The workspace, then the fields the network asks for (NetworkAdapter.connect_fields)."""

    def __init__(self, *args, user, connect_fields: tuple[ConnectField, ...], **kwargs) -> None:
        super().__init__(*args, user=user, **kwargs)
        for field in connect_fields:
            self.fields[field.name] = forms.CharField(
                label=field.label,
                help_text=field.help_text,
                initial=field.initial,
                # A secret is never sent back to the browser, not even after an error.
                widget=forms.PasswordInput if field.secret else forms.TextInput,
                strip=not field.secret,
            )
        self.network_fields = [field.name for field in connect_fields]

    def network_values(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in self.network_fields}


@staff_member_required
@sensitive_post_parameters()
def account_connect_form(request: HttpRequest, network: str) -> HttpResponse:
    """Staff choose the workspace and give what the network needs to sign in once."""
    try:
        adapter = adapter_for(network)
    except NetworkNotSupported:
        raise Http404(f"Kairos does not know the network “{network}”.") from None
    if not adapter.connect_fields:
        raise Http404(f"{adapter.label} accounts are not connected from a form.")
    form = ConnectFieldsForm(
        request.POST or None, user=request.user, connect_fields=adapter.connect_fields
    )
    if request.method == "POST" and form.is_valid():
        try:
            account = social_account_connect_with(
                user=request.user,
                workspace=form.cleaned_data["workspace"],
                network=network,
                values=form.network_values(),
            )
        except ConnectError as problem:
            form.add_error(None, str(problem))
        else:
            messages.success(
                request, f"{account} is connected and publishes for {account.workspace}."
            )
            return redirect("admin:accounts_socialaccount_change", account.pk)
    return render(
        request,
        "admin/accounts/socialaccount/connect_form.html",
        {
            **admin.site.each_context(request),
            "title": f"Connect {adapter.label} account",
            "network_label": adapter.label,
            "form": form,
        },
    )


class MastodonConnectForm(WorkspaceChoiceForm):
    instance = forms.CharField(
        max_length=200,
        help_text="The instance the account lives on, such as mastodon.social.",
    )


@staff_member_required
def x_connect(request: HttpRequest) -> HttpResponse:
    """Staff choose the workspace, then sign in to X and allow Kairos there."""
    return _connect_page(request, network="x", label="X", intro=X_INTRO, form=WorkspaceChoiceForm)


@staff_member_required
def mastodon_connect(request: HttpRequest) -> HttpResponse:
    """Staff choose the workspace and name the instance, then sign in there and allow Kairos."""
    return _connect_page(
        request,
        network="mastodon",
        label="Mastodon",
        intro=MASTODON_INTRO,
        form=MastodonConnectForm,
    )


@login_required(login_url=reverse_lazy("admin:login"))
def x_callback(request: HttpRequest) -> HttpResponse:
    """Where X sends the person back, with a code to exchange or the error they met."""
    return _connect_callback(request, network="x", label="X")


@login_required(login_url=reverse_lazy("admin:login"))
def mastodon_callback(request: HttpRequest) -> HttpResponse:
    """Where the Mastodon instance sends the person back."""
    return _connect_callback(request, network="mastodon", label="Mastodon")


def _connect_page(
    request: HttpRequest, *, network: str, label: str, intro: str, form: type[forms.Form]
) -> HttpResponse:
    bound = form(request.POST or None, user=request.user)
    if request.method == "POST" and bound.is_valid():
        try:
            return redirect(
                social_account_connect_start(
                    user=request.user,
                    workspace=bound.cleaned_data["workspace"],
                    network=network,
                    server=bound.cleaned_data.get("instance", ""),
                )
            )
        except ConnectError as problem:
            messages.error(request, str(problem))
    return render(
        request,
        "admin/accounts/socialaccount/connect.html",
        {
            **admin.site.each_context(request),
            "title": f"Connect {label} account",
            "form": bound,
            "intro": intro,
            "network_label": label,
        },
    )


def _connect_callback(request: HttpRequest, *, network: str, label: str) -> HttpResponse:
    try:
        account = social_account_connect_finish(
            user=request.user,
            network=network,
            state=request.GET.get("state", ""),
            code=request.GET.get("code", ""),
            error=request.GET.get("error", ""),
        )
    except (OAuthStateRefused, ConnectError) as refusal:
        return render(
            request,
            "admin/accounts/socialaccount/connect_failed.html",
            {
                **admin.site.each_context(request),
                "title": f"{label} account not connected",
                "reason": str(refusal),
                "network_label": label,
                "connect_view": f"accounts:{network}-connect",
            },
            status=400,
        )
    messages.success(request, f"{account} is connected and publishes for {account.workspace}.")
    return redirect("admin:accounts_socialaccount_change", account.pk)
