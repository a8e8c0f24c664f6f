"""The composer's live counter and preview (posts/views.py: composer_preview, over
publishing/preview.py)."""

import json

import pytest
from django.urls import reverse

from accounts.models import Membership, SocialAccount
from posts.media import media_asset_create
from publishing.networks.base import PartContent
from publishing.networks.x.validation import x_content_problems
from publishing.stores import account_snapshot
from tests.factories import MembershipFactory, SandboxAccountFactory
from tests.media_files import image_upload

pytestmark = pytest.mark.django_db

URL = "/admin/posts/post/preview/"
# 270 letters and one link: X counts the link as 23, so 294 in all.
LONG = "a" * 270 + " https://example.com/a/very/long/path/that/x/counts/as/twenty/three"


def x_account(workspace, handle="acme_x"):
    return SandboxAccountFactory(
        workspace=workspace,
        network=SocialAccount.Network.X,
        handle=handle,
        external_id=f"x-{handle}",
    )


@pytest.fixture
def editor(client):
    member = MembershipFactory(role=Membership.Role.EDITOR)
    client.force_login(member.user)
    return member


def ask(client, **values):
    values.setdefault("workspace", "")
    values.setdefault("own_texts", {})
    return client.post(URL, json.dumps(values), content_type="application/json")


def test_the_url_is_the_post_admins():
    assert reverse("admin:posts_post_preview") == URL


def test_each_account_gets_its_networks_count_limit_and_refusals(client, editor):
    x = x_account(editor.workspace)
    sandbox = SandboxAccountFactory(workspace=editor.workspace, handle="acme")

    answer = ask(
        client,
        workspace=editor.workspace.pk,
        accounts=[x.pk, sandbox.pk],
        parts=[{"text": LONG, "media": []}, {"text": "Part two 🎉", "media": []}],
    )

    assert answer.status_code == 200
    on_x, on_sandbox = answer.json()["accounts"]
    assert (on_x["network_label"], on_x["handle"], on_x["limit"]) == ("X", "acme_x", 280)
    assert [part["length"] for part in on_x["parts"]] == [294, 11]  # links 23, emoji 2
    assert [part["over"] for part in on_x["parts"]] == [True, False]
    assert on_x["over_limit"] is True
    # The refusal is the validator's own sentence, which names the rule.
    snapshot = account_snapshot(x)
    assert on_x["problems"] == x_content_problems(
        account=snapshot,
        parts=(PartContent(text=LONG), PartContent(text="Part two 🎉")),
    )
    assert "counts 294 of X's 280 characters" in on_x["problems"][0]
    assert (on_sandbox["limit"], on_sandbox["problems"], on_sandbox["over_limit"]) == (
        5000,
        [],
        False,
    )
    assert [part["length"] for part in on_sandbox["parts"]] == [len(LONG), 10]


def test_an_accounts_own_text_replaces_part_one_and_is_counted(client, editor):
    x = x_account(editor.workspace)
    other = x_account(editor.workspace, handle="acme_jobs")

    answer = ask(
        client,
        accounts=[x.pk, other.pk],
        own_texts={str(other.pk): "We are hiring on {weekday}s"},
        parts=[{"text": "Launch day", "media": []}, {"text": "More soon", "media": []}],
        timezone="America/New_York",
    )

    on_x, on_other = answer.json()["accounts"]
    assert [part["text"] for part in on_x["parts"]] == ["Launch day", "More soon"]
    assert on_x["own_text"] is False
    assert on_other["own_text"] is True
    assert on_other["parts"][0]["text"].startswith("We are hiring on ")
    assert "{weekday}" not in on_other["parts"][0]["text"]
    assert on_other["parts"][1]["text"] == "More soon"


def test_library_files_appear_in_their_part_and_are_checked(client, editor):
    x = x_account(editor.workspace)
    images = [
        media_asset_create(workspace=editor.workspace, file=image_upload(f"{n}.png"), actor=None)
        for n in range(5)
    ]

    answer = ask(
        client,
        accounts=[x.pk],
        parts=[
            {"text": "Five photos", "media": [image.pk for image in images]},
            {"text": "None here", "media": []},
        ],
    )

    first, second = answer.json()["accounts"][0]["parts"]
    assert [file["id"] for file in first["media"]] == [image.pk for image in images]
    assert first["media"][0]["url"] == reverse("media-file", args=[images[0].pk])
    assert second["media"] == []
    assert answer.json()["accounts"][0]["problems"] == [
        "Part 1 has 5 images; X takes at most 4. Move 1 to another part."
    ]


def test_another_workspaces_account_or_file_is_not_found(client, editor):
    stranger = MembershipFactory()
    foreign_account = x_account(stranger.workspace, handle="theirs")
    foreign_file = media_asset_create(workspace=stranger.workspace, file=image_upload(), actor=None)
    mine = x_account(editor.workspace)

    forged_account = ask(client, accounts=[foreign_account.pk], parts=[{"text": "hi", "media": []}])
    forged_file = ask(
        client, accounts=[mine.pk], parts=[{"text": "hi", "media": [foreign_file.pk]}]
    )
    forged_workspace = ask(
        client, workspace=stranger.workspace.pk, accounts=[], parts=[{"text": "hi", "media": []}]
    )

    assert [forged_account.status_code, forged_file.status_code] == [404, 404]
    assert forged_workspace.status_code == 404
    assert "theirs" not in forged_account.content.decode()


def test_an_account_of_another_of_my_workspaces_than_the_forms_is_not_found(client, editor):
    second = MembershipFactory(user=editor.user, role=Membership.Role.EDITOR)
    elsewhere = x_account(second.workspace, handle="elsewhere")

    answer = ask(
        client,
        workspace=editor.workspace.pk,
        accounts=[elsewhere.pk],
        parts=[{"text": "hi", "media": []}],
    )

    assert answer.status_code == 404


def test_a_viewer_may_not_compose_so_gets_no_preview(client):
    # A viewer's post page is read-only and has no composer: the preview is a composing
    # tool, so a viewer asking for one about their own workspace is refused (403: they
    # may see the account), and one about another workspace is not found.
    viewer = MembershipFactory(role=Membership.Role.VIEWER)
    client.force_login(viewer.user)
    account = x_account(viewer.workspace)

    answer = ask(client, accounts=[account.pk], parts=[{"text": "hi", "media": []}])

    assert answer.status_code == 403
    assert "role" in answer.json()["error"]


def test_people_outside_the_admin_get_nothing(client):
    member = MembershipFactory(user__is_staff=False)
    client.force_login(member.user)

    answer = ask(client, accounts=[], parts=[{"text": "hi", "media": []}])

    assert answer.status_code == 302
    assert "/admin/login/" in answer["Location"]


def test_a_garbled_question_is_refused_plainly(client, editor):
    unreadable = client.post(URL, "{not json", content_type="application/json")
    wrong_shape = ask(client, accounts=["one"], parts=[])
    not_posted = client.get(URL)

    assert unreadable.status_code == wrong_shape.status_code == 400
    assert not_posted.status_code == 405


def test_no_accounts_chosen_gives_no_cards(client, editor):
    answer = ask(client, accounts=[], parts=[{"text": "hi", "media": []}])

    assert answer.json() == {"accounts": []}
