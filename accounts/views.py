"""Connecting network accounts: the page that starts a sign-in, the callback that ends it.

The rules (who may connect what, the sign-in's state) live in publishing/connect.py,
the exchange with the network in its adapter; these views only speak HTTP.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy

from accounts.permissions import ACCOUNT_MANAGE, workspaces_where
from accounts.services import OAuthStateRefused
from publishing.connect import social_account_connect_finish, social_account_connect_start
from publishing.networks.base import ConnectError


class WorkspaceChoiceForm(forms.Form):
    workspace = forms.ModelChoiceField(
        queryset=None, empty_label=None, help_text="The workspace that will publish to it."
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["workspace"].queryset = workspaces_where(user=user, action=ACCOUNT_MANAGE)


@staff_member_required
def x_connect(request: HttpRequest) -> HttpResponse:
    """Staff choose the workspace, then sign in to X and allow Kairos there."""
    form = WorkspaceChoiceForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            return redirect(
                social_account_connect_start(
                    user=request.user, workspace=form.cleaned_data["workspace"], network="x"
                )
            )
        except ConnectError as problem:
            messages.error(request, str(problem))
    return render(
        request,
        "admin/accounts/socialaccount/x_connect.html",
        {**admin.site.each_context(request), "title": "Connect X account", "form": form},
    )


@login_required(login_url=reverse_lazy("admin:login"))
def x_callback(request: HttpRequest) -> HttpResponse:
    """Where X sends the person back, with a code to exchange or the error they met."""
    try:
        account = social_account_connect_finish(
            user=request.user,
            network="x",
            state=request.GET.get("state", ""),
            code=request.GET.get("code", ""),
            error=request.GET.get("error", ""),
        )
    except (OAuthStateRefused, ConnectError) as refusal:
        return render(
            request,
            "admin/accounts/socialaccount/x_connect_failed.html",
            {
                **admin.site.each_context(request),
                "title": "X account not connected",
                "reason": str(refusal),
            },
            status=400,
        )
    messages.success(request, f"{account} is connected and publishes for {account.workspace}.")
    return redirect("admin:accounts_socialaccount_change", account.pk)
