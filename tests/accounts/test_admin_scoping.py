"""Every choice in every admin form offers only rows of the person's workspaces, and a
forged id of another workspace is refused (accounts/admin.py: WorkspaceScopedAdmin)."""

import pytest
from django.contrib import admin
from django.forms import ModelChoiceField, ModelMultipleChoiceField
from django.test import RequestFactory
from django.urls import reverse

from accounts.admin import WorkspaceScopedAdmin, _workspace_path_of
from accounts.models import AuditEvent, Membership, Workspace
from posts.models import Campaign, MediaAsset, Tag
from tests.factories import (
    MembershipFactory,
    PostFactory,
    PublishJobFactory,
    SandboxAccountFactory,
    UserFactory,
)
from tests.posts.test_admin import change_data, composer_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_workspaces():
    """An editor of workspace A, and a row of every kind in A and in B."""
    mine = MembershipFactory(role=Membership.Role.OWNER, user=UserFactory(is_superuser=False))
    theirs = MembershipFactory(role=Membership.Role.OWNER)
    for membership in (mine, theirs):
        workspace = membership.workspace
        account = SandboxAccountFactory(workspace=workspace)
        post = PostFactory(workspace=workspace, accounts=[account])
        PublishJobFactory(post=post, account=account)
        Tag.objects.create(workspace=workspace, name=f"tag {workspace.pk}")
        Campaign.objects.create(
            workspace=workspace,
            name=f"campaign {workspace.pk}",
            starts_on="2026-06-01",
            ends_on="2026-06-07",
        )
        MediaAsset.objects.create(
            workspace=workspace, file="x.png", kind="image", mime_type="image/png", size_bytes=1
        )
    return mine, theirs


def choice_fields(model_admin, request, obj=None):
    form = model_admin.get_form(request, obj)(instance=obj)
    for name, field in form.fields.items():
        if isinstance(field, (ModelChoiceField, ModelMultipleChoiceField)):
            yield name, field
    for inline in model_admin.get_inline_instances(request, obj):
        formset = inline.get_formset(request, obj)(instance=obj)
        for name, field in formset.form.base_fields.items():
            if isinstance(field, (ModelChoiceField, ModelMultipleChoiceField)):
                yield f"{inline.model.__name__}.{name}", field


def workspace_ids(field) -> set[int]:
    model = field.queryset.model
    path = _workspace_path_of(admin.site, model)
    if path is None:
        return set()
    return set(field.queryset.values_list(path if path != "pk" else "pk", flat=True))


def scoped_admins():
    return [
        pytest.param(model_admin, id=model_admin.model.__name__)
        for model_admin in admin.site._registry.values()
        if isinstance(model_admin, WorkspaceScopedAdmin)
    ]


@pytest.mark.parametrize("model_admin", scoped_admins())
def test_every_foreign_key_and_many_to_many_choice_stays_in_the_workspace(
    two_workspaces, model_admin
):
    mine, _ = two_workspaces
    request = RequestFactory().get("/")
    request.user = mine.user
    row = model_admin.get_queryset(request).first()
    forms = [None, row] if model_admin.has_add_permission(request) else [row]
    checked = 0
    for obj in forms:
        for name, field in choice_fields(model_admin, request, obj):
            seen = workspace_ids(field)
            assert seen <= {mine.workspace_id}, f"{name} offers rows of another workspace"
            checked += 1
    related = [
        f.name
        for f in model_admin.model._meta.get_fields()
        if (f.many_to_one or f.many_to_many)
        and f.concrete
        and (f.related_model is Workspace or _workspace_path_of(admin.site, f.related_model))
    ]
    editable = [name for name in related if name in (model_admin.get_fields(request, row) or [])]
    assert checked >= len(
        [n for n in editable if n not in model_admin.get_readonly_fields(request)]
    )


def test_the_workspace_filter_names_only_the_persons_workspaces(client, two_workspaces):
    mine, theirs = two_workspaces
    client.force_login(mine.user)
    for name in ("posts_post", "accounts_socialaccount", "accounts_auditevent"):
        page = client.get(reverse(f"admin:{name}_changelist"))
        assert page.status_code == 200
        assert str(theirs.workspace) not in page.content.decode()


def test_a_forged_campaign_tag_or_account_of_another_workspace_is_refused(client, two_workspaces):
    mine, theirs = two_workspaces
    client.force_login(mine.user)
    data = composer_data(
        workspace=mine.workspace,
        accounts=[theirs.workspace.accounts.get()],
        texts=["Hello"],
    )
    data["campaign"] = theirs.workspace.campaigns.get().pk
    data["tags"] = [theirs.workspace.tags.get().pk]
    before = mine.workspace.posts.count()
    response = client.post(reverse("admin:posts_post_add"), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert {"accounts", "campaign", "tags"} <= set(errors)
    assert mine.workspace.posts.count() == before


def test_every_change_in_the_admin_is_recorded_old_and_new(client, two_workspaces):
    mine, _ = two_workspaces
    client.force_login(mine.user)
    tag = mine.workspace.tags.get()
    client.post(
        reverse("admin:posts_tag_change", args=[tag.pk]),
        {"name": "launch", "workspace": mine.workspace_id},
    )
    changed = AuditEvent.objects.get(action="tag.changed")
    assert changed.data["changes"] == {"name": [f"tag {mine.workspace_id}", "launch"]}
    assert changed.actor == mine.user
    client.post(reverse("admin:posts_tag_delete", args=[tag.pk]), {"post": "yes"})
    assert AuditEvent.objects.get(action="tag.deleted").data == {"was": "launch"}
    post = mine.workspace.posts.get()
    data = change_data(post, priority=3, **{"parts-0-text": "Renamed"})
    response = client.post(reverse("admin:posts_post_change", args=[post.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    edited = AuditEvent.objects.get(action="post.changed").data["changes"]
    assert edited["priority"] == ["Normal", "High"]
    assert edited["post part 1: text"] == ["Hello from Kairos", "Renamed"]
