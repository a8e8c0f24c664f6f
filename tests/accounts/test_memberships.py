"""`memberships_apply`: members added, roles changed and members removed as one change,
each audited, never taking away a workspace's last owner."""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import AuditEvent, Membership
from accounts.services import memberships_apply
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

R = Membership.Role


def test_adds_changes_and_removes_members_each_audited():
    owner = MembershipFactory(role=R.OWNER)
    workspace = owner.workspace
    editor = MembershipFactory(workspace=workspace, role=R.EDITOR)
    leaving = MembershipFactory(workspace=workspace, role=R.VIEWER)
    editor.role = R.APPROVER

    memberships_apply(
        workspace=workspace,
        added=[Membership(user=UserFactory(username="dana"), role=R.VIEWER)],
        changed=[editor],
        removed=[leaving],
        actor=owner.user,
    )

    assert sorted(workspace.memberships.values_list("user__username", "role")) == sorted(
        [(owner.user.username, R.OWNER), (editor.user.username, R.APPROVER), ("dana", R.VIEWER)]
    )
    recorded = AuditEvent.objects.filter(action__startswith="membership.", actor=owner.user)
    assert sorted(recorded.values_list("action", "from_status", "to_status")) == [
        ("membership.added", "", ""),
        ("membership.removed", "viewer", ""),
        ("membership.role_changed", "editor", "approver"),
    ]


@pytest.mark.parametrize("how", ["demoted", "removed"])
def test_the_last_owner_is_kept_and_nothing_of_the_change_is(how):
    owner = MembershipFactory(role=R.OWNER)
    workspace = owner.workspace
    owner.role = R.EDITOR
    with pytest.raises(ValidationError, match="keeps at least one owner"):
        memberships_apply(
            workspace=workspace,
            added=[Membership(user=UserFactory(), role=R.EDITOR)],
            changed=[owner] if how == "demoted" else [],
            removed=[owner] if how == "removed" else [],
            actor=owner.user,
        )
    assert list(workspace.memberships.values_list("role", flat=True)) == [R.OWNER]
    assert (
        not AuditEvent.objects.filter(action__startswith="membership.")
        .exclude(subject_id=str(owner.pk))
        .exists()
    )


def test_an_owner_may_leave_once_another_owner_is_named_in_the_same_change():
    owner = MembershipFactory(role=R.OWNER)
    editor = MembershipFactory(workspace=owner.workspace, role=R.EDITOR)
    editor.role = R.OWNER
    memberships_apply(
        workspace=owner.workspace, added=[], changed=[editor], removed=[owner], actor=owner.user
    )
    assert list(owner.workspace.memberships.values_list("role", flat=True)) == [R.OWNER]


def test_a_workspace_without_an_owner_may_still_get_members():
    # A workspace the operator made without naming an owner.
    viewer = MembershipFactory(role=R.VIEWER)
    memberships_apply(
        workspace=viewer.workspace,
        added=[Membership(user=UserFactory(), role=R.EDITOR)],
        changed=[],
        removed=[],
        actor=None,
    )
    assert viewer.workspace.memberships.count() == 2
