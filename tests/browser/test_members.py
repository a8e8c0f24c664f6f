"""Members and roles, as a workspace's owner keeps them: they add a person by the
name or email that person signs in with, and are never shown a list of everyone who
uses this Kairos (other workspaces' people among them)."""

import pytest
from playwright.sync_api import expect

from accounts.models import AuditEvent, Membership
from tests.factories import MembershipFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_owner_adds_a_member_by_email_and_changes_a_role(page, login_as, screenshot):
    owner = login_as(Membership.Role.OWNER, workspace__name="Acme")
    colleague = UserFactory(username="dana", email="dana@acme.example")
    writer = MembershipFactory(
        workspace=owner.workspace, user__username="sam", role=Membership.Role.EDITOR
    )
    MembershipFactory(user__username="someone-elsewhere")  # another workspace's person

    page.goto(f"/admin/accounts/workspace/{owner.workspace.pk}/change/")
    members = page.locator("#memberships-group")
    # Saved members show by username; there is no search of everyone.
    expect(members.locator("input[value='sam']")).to_be_visible()
    expect(members.locator(".select2, .admin-autocomplete")).to_have_count(0)
    members.get_by_text("Add another member").click()
    new_row = members.locator("tr.dynamic-memberships").last
    new_row.locator("input[name$='-user']").fill("Nobody@acme.example")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".errorlist")).to_contain_text(
        "No one uses “Nobody@acme.example” as username or email here"
    )
    assert not Membership.objects.filter(user=colleague).exists()

    members = page.locator("#memberships-group")
    new_row = members.locator("tr.form-row:not(.has_original):not(.empty-form)")
    new_row.locator("input[name$='-user']").fill("DANA@acme.example")
    new_row.locator("select[name$='-role']").select_option("approver")
    members.locator("tr", has=page.locator("input[value='sam']")).locator(
        "select[name$='-role']"
    ).select_option("viewer")
    screenshot(page, "workspace-members")
    page.get_by_role("button", name="Save and continue editing").click()

    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    assert Membership.objects.get(user=colleague).role == Membership.Role.APPROVER
    writer.refresh_from_db()
    assert writer.role == Membership.Role.VIEWER
    expect(page.locator("#memberships-group input[value='dana']")).to_be_visible()
    screenshot(page, "workspace-members-saved")
    # Each change once in the audit trail: the members' service's records, no more.
    actions = AuditEvent.objects.filter(workspace=owner.workspace, actor=owner.user)
    assert sorted(actions.values_list("action", "to_status")) == [
        ("membership.added", ""),
        ("membership.role_changed", "viewer"),
    ]

    # The only owner cannot make themselves an editor: no one would manage Acme then.
    members = page.locator("#memberships-group")
    members.locator("tr", has=page.locator(f"input[value='{owner.user.username}']")).locator(
        "select[name$='-role']"
    ).select_option("editor")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".errorlist.nonform")).to_contain_text(
        "A workspace keeps at least one owner"
    )
    owner.refresh_from_db()
    assert owner.role == Membership.Role.OWNER

    # The search the operator's page uses is closed to an owner.
    answer = page.request.get(
        "/admin/autocomplete/?app_label=accounts&model_name=membership&field_name=user&term="
    )
    assert answer.status == 403
