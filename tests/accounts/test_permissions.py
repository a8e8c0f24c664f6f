"""Roles decide, everywhere: the table, every admin action, change form and API endpoint,
for each of the four roles (accounts/permissions.py)."""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from accounts.models import Membership
from accounts.permissions import (
    ACCOUNT_MANAGE,
    ACTIONS,
    POST_APPROVE,
    POST_COMPOSE,
    POST_PUBLISH,
    POST_SCHEDULE,
    WORKSPACE_MANAGE,
    WORKSPACE_VIEW,
    member_may,
    workspaces_where,
)
from posts.models import Post
from publishing.models import JobStatus as S
from tests.factories import (
    MembershipFactory,
    PostFactory,
    PublishJobFactory,
    SandboxAccountFactory,
    UserFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.django_db

Role = Membership.Role
ROLES = [Role.VIEWER, Role.EDITOR, Role.APPROVER, Role.OWNER]
# Written out by hand, not derived from the code's table.
EXPECTED = {
    Role.VIEWER: {WORKSPACE_VIEW},
    Role.EDITOR: {WORKSPACE_VIEW, POST_COMPOSE, POST_SCHEDULE, POST_PUBLISH},
    Role.APPROVER: {WORKSPACE_VIEW, POST_COMPOSE, POST_SCHEDULE, POST_PUBLISH, POST_APPROVE},
    Role.OWNER: {
        WORKSPACE_VIEW,
        POST_COMPOSE,
        POST_SCHEDULE,
        POST_PUBLISH,
        POST_APPROVE,
        ACCOUNT_MANAGE,
        WORKSPACE_MANAGE,
    },
}


def member(role):
    return MembershipFactory(role=role, user=UserFactory(is_superuser=False))


@pytest.mark.parametrize("role", ROLES)
def test_each_role_may_do_what_the_table_says_and_nothing_more(role):
    membership = member(role)
    allowed = {
        action
        for action in ACTIONS
        if member_may(user=membership.user, workspace=membership.workspace, action=action)
    }
    assert allowed == EXPECTED[role]


def test_a_role_counts_only_in_its_own_workspace():
    membership = member(Role.OWNER)
    other = WorkspaceFactory()
    assert not member_may(user=membership.user, workspace=other, action=WORKSPACE_VIEW)
    assert list(workspaces_where(user=membership.user, action=POST_COMPOSE)) == [
        membership.workspace
    ]


def test_a_superuser_may_do_everything_everywhere():
    user = UserFactory(is_superuser=True)
    assert all(member_may(user=user, workspace=WorkspaceFactory(), action=a) for a in ACTIONS)


def test_an_unknown_action_is_a_mistake_not_a_no():
    with pytest.raises(ValueError, match="Unknown action"):
        workspaces_where(user=UserFactory(), action="post_fly")


# --- Every admin action, for every role -----------------------------------------------


def scoped_admins():
    from accounts.admin import WorkspaceScopedAdmin

    return [
        model_admin
        for model_admin in admin.site._registry.values()
        if isinstance(model_admin, WorkspaceScopedAdmin)
    ]


def admin_actions():
    for model_admin in scoped_admins():
        for name in model_admin.actions or ():
            function = getattr(model_admin, name)
            needed = getattr(function, "allowed_permissions", ())
            yield pytest.param(model_admin, name, needed, id=f"{model_admin.model.__name__}.{name}")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("model_admin", "name", "needed"), list(admin_actions()))
def test_every_admin_action_is_offered_only_to_roles_that_may_take_it(
    role, model_admin, name, needed
):
    assert needed, f"{name} names no permission: every action must"
    membership = member(role)
    request = RequestFactory().get("/")
    request.user = membership.user
    offered = name in model_admin.get_actions(request)
    assert offered == all(action in EXPECTED[role] for action in needed)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("model_admin", scoped_admins(), ids=lambda a: a.model.__name__)
def test_every_change_form_follows_the_role(role, model_admin):
    membership = member(role)
    request = RequestFactory().get("/")
    request.user = membership.user
    # Rows that are owners' business (webhooks) are not even shown to other roles.
    assert model_admin.has_view_permission(request) == (model_admin.view_action in EXPECTED[role])
    may_change = model_admin.change_action in EXPECTED[role]
    # Some rows are never changed by hand (jobs, audit, snapshots): those stay read-only.
    assert not model_admin.has_change_permission(request) or may_change


def test_a_viewer_sees_posts_but_cannot_publish_one_by_posting_the_action(client):
    membership = member(Role.VIEWER)
    account = SandboxAccountFactory(workspace=membership.workspace)
    post = PostFactory(workspace=membership.workspace, accounts=[account])
    client.force_login(membership.user)
    changelist = reverse("admin:posts_post_changelist")
    page = client.get(changelist)
    assert page.status_code == 200
    action_form = page.context["action_form"]
    assert action_form is None or "publish_now" not in dict(action_form.fields["action"].choices)
    client.post(changelist, {"action": "publish_now", "_selected_action": [post.pk]})
    assert not post.jobs.exists()
    assert client.get(reverse("admin:posts_post_add")).status_code == 403
    assert client.get(reverse("admin:posts_post_change", args=[post.pk])).status_code == 200
    refused = client.post(reverse("admin:posts_post_delete", args=[post.pk]), {"post": "yes"})
    assert refused.status_code == 403
    assert Post.objects.get(pk=post.pk).deleted_at is None


def test_a_viewer_cannot_pause_publishing_nor_change_members(client):
    membership = member(Role.VIEWER)
    client.force_login(membership.user)
    workspace = membership.workspace
    changelist = reverse("admin:accounts_workspace_changelist")
    client.post(changelist, {"action": "pause_publishing", "_selected_action": [workspace.pk]})
    workspace.refresh_from_db()
    assert workspace.publishing_paused_at is None
    change = client.get(reverse("admin:accounts_workspace_change", args=[workspace.pk]))
    assert change.status_code == 200
    assert not change.context["has_change_permission"]


def test_an_editor_publishes_now(client):
    membership = member(Role.EDITOR)
    account = SandboxAccountFactory(workspace=membership.workspace)
    post = PostFactory(workspace=membership.workspace, accounts=[account])
    client.force_login(membership.user)
    client.post(
        reverse("admin:posts_post_changelist"),
        {"action": "publish_now", "_selected_action": [post.pk]},
    )
    assert post.jobs.count() == 1


# --- The API --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.VIEWER, 403), (Role.EDITOR, 409), (Role.APPROVER, 409), (Role.OWNER, 409)],
)
def test_deleting_a_post_from_its_network_follows_the_role(client, role, status):
    membership = member(role)
    job = PublishJobFactory(post__workspace=membership.workspace, status=S.FAILED)
    client.force_login(membership.user)
    # 409: allowed, but the job published nothing; 403: the role may not.
    assert client.delete(f"/api/v1/jobs/{job.pk}/post/").status_code == status


def test_another_workspaces_job_is_not_found_whatever_the_role(client):
    membership = member(Role.OWNER)
    job = PublishJobFactory(status=S.PUBLISHED)
    client.force_login(membership.user)
    assert client.delete(f"/api/v1/jobs/{job.pk}/post/").status_code == 404


def test_members_without_staff_access_get_nothing_from_the_api(client):
    membership = MembershipFactory(role=Role.OWNER, user=UserFactory(is_staff=False))
    job = PublishJobFactory(post__workspace=membership.workspace, status=S.PUBLISHED)
    client.force_login(membership.user)
    assert client.delete(f"/api/v1/jobs/{job.pk}/post/").status_code == 403
    assert client.get("/api/v1/schedules/").status_code == 403
