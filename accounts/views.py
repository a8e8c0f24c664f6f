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
    social_account_connect_chosen,
    social_account_connect_finish,
    social_account_connect_offer,
    social_account_connect_offered,
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

META_INTRO = (
    "Kairos sends you to Facebook. Sign in as a person who manages the {what}, and allow "
    "Kairos what it asks; Facebook then sends you back here to choose which to connect. You "
    "have 10 minutes."
)
LINKEDIN_INTRO = (
    "Kairos sends you to LinkedIn. Sign in as the member to publish as (or as an administrator "
    "of the organization pages to publish to), and choose “Allow”; LinkedIn then sends you "
    "back here to choose which to connect. You have 10 minutes. LinkedIn's sign-in lasts 60 "
    "days: Kairos shows when to connect again."
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


@staff_member_required
def facebook_connect(request: HttpRequest) -> HttpResponse:
    """Staff choose the workspace, then sign in to Facebook and allow Kairos there."""
    intro = META_INTRO.format(what="Pages")
    return _connect_page(
        request, network="facebook", label="Facebook", intro=intro, form=WorkspaceChoiceForm
    )


@staff_member_required
def instagram_connect(request: HttpRequest) -> HttpResponse:
    """Staff choose the workspace, then sign in with Facebook as the Page the Instagram
    professional account is linked to."""
    intro = META_INTRO.format(what="Page the Instagram professional account is linked to")
    return _connect_page(
        request, network="instagram", label="Instagram", intro=intro, form=WorkspaceChoiceForm
    )


@staff_member_required
def linkedin_connect(request: HttpRequest) -> HttpResponse:
    """Staff choose the workspace, then sign in to LinkedIn and allow Kairos there."""
    return _connect_page(
        request,
        network="linkedin",
        label="LinkedIn",
        intro=LINKEDIN_INTRO,
        form=WorkspaceChoiceForm,
    )


class AccountsChoiceForm(forms.Form):
    accounts = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, label="Connect", help_text="Each publishes alone."
    )

    def __init__(self, *args, profiles, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["accounts"].choices = [
            (profile.external_id, profile.display_name or profile.handle) for profile in profiles
        ]


@staff_member_required
def connect_choose(request: HttpRequest, network: str, offer: str) -> HttpResponse:
    """Staff choose which of the accounts a sign-in brought to connect (Facebook Pages)."""
    try:
        adapter = adapter_for(network)
        offered = social_account_connect_offered(user=request.user, network=network, offer=offer)
    except NetworkNotSupported:
        raise Http404(f"Kairos does not know the network “{network}”.") from None
    except ConnectError as refusal:
        return _connect_refused(request, network=network, label=adapter.label, refusal=refusal)
    form = AccountsChoiceForm(request.POST or None, profiles=offered.profiles)
    if request.method == "POST" and form.is_valid():
        try:
            accounts = social_account_connect_chosen(
                user=request.user,
                network=network,
                offer=offer,
                external_ids=form.cleaned_data["accounts"],
            )
        except ConnectError as refusal:
            return _connect_refused(request, network=network, label=adapter.label, refusal=refusal)
        names = ", ".join(str(account) for account in accounts)
        messages.success(request, f"{names} connected and publishing for {offered.workspace}.")
        return redirect("admin:accounts_socialaccount_changelist")
    return render(
        request,
        "admin/accounts/socialaccount/connect_choose.html",
        {
            **admin.site.each_context(request),
            "title": f"Choose {adapter.label} accounts to connect",
            "form": form,
            "network_label": adapter.label,
            "workspace": offered.workspace,
        },
    )


@login_required(login_url=reverse_lazy("admin:login"))
def x_callback(request: HttpRequest) -> HttpResponse:
    """Where X sends the person back, with a code to exchange or the error they met."""
    return _connect_callback(request, network="x", label="X")


@login_required(login_url=reverse_lazy("admin:login"))
def mastodon_callback(request: HttpRequest) -> HttpResponse:
    """Where the Mastodon instance sends the person back."""
    return _connect_callback(request, network="mastodon", label="Mastodon")


@login_required(login_url=reverse_lazy("admin:login"))
def facebook_callback(request: HttpRequest) -> HttpResponse:
    """Where Facebook sends the person back; then they choose the Pages to connect."""
    return _connect_callback(request, network="facebook", label="Facebook")


@login_required(login_url=reverse_lazy("admin:login"))
def instagram_callback(request: HttpRequest) -> HttpResponse:
    """Where Facebook sends the person back; then they choose the Instagram accounts."""
    return _connect_callback(request, network="instagram", label="Instagram")


@login_required(login_url=reverse_lazy("admin:login"))
def linkedin_callback(request: HttpRequest) -> HttpResponse:
    """Where LinkedIn sends the person back; then they choose the member or organizations."""
    return _connect_callback(request, network="linkedin", label="LinkedIn")


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
    back = {
        "user": request.user,
        "network": network,
        "state": request.GET.get("state", ""),
        "code": request.GET.get("code", ""),
        "error": request.GET.get("error", ""),
    }
    try:
        if adapter_for(network).offers_choices:
            offer = social_account_connect_offer(**back)
            return redirect("accounts:connect-choose", network, offer)
        account = social_account_connect_finish(**back)
    except (OAuthStateRefused, ConnectError) as refusal:
        return _connect_refused(request, network=network, label=label, refusal=refusal)
    messages.success(request, f"{account} is connected and publishes for {account.workspace}.")
    return redirect("admin:accounts_socialaccount_change", account.pk)


def _connect_refused(
    request: HttpRequest, *, network: str, label: str, refusal: Exception
) -> HttpResponse:
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
