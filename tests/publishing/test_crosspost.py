"""The same words from several accounts of a network that forbids it (X), across posts."""

from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import SocialAccount
from publishing.crosspost import post_identical_text_conflicts
from publishing.models import JobStatus as S
from tests.factories import PostFactory, PublishJobFactory, SandboxAccountFactory, WorkspaceFactory
from tests.scheduling.factories import PlannedScheduleFactory

# --- The same words on two X accounts -------------------------------------------------

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def x_factory_account(workspace, handle):
    return SocialAccount.objects.create(
        workspace=workspace, network=SocialAccount.Network.X, handle=handle, external_id=handle
    )


@pytest.fixture
def brand():
    return WorkspaceFactory()


@pytest.fixture
def ours(brand):
    return x_factory_account(brand, "ours")


def planned(account, text, at, **kwargs):
    post = PostFactory(workspace=account.workspace, texts=[text], accounts=[account], **kwargs)
    PlannedScheduleFactory(post=post, next_occurrence_at=at)
    return post


@pytest.mark.django_db
def test_another_workspaces_account_with_the_same_words_nearby_is_a_conflict(ours):
    other = x_factory_account(WorkspaceFactory(), "elsewhere")
    planned(other, "Big launch today", AT + timedelta(minutes=3))
    post = PostFactory(workspace=ours.workspace, texts=["Big launch today"], accounts=[ours])

    assert post_identical_text_conflicts(post=post, at=AT) == [
        "@ours (X) would publish the same text as an X account of another workspace, less "
        "than 5 minutes apart; X forbids identical posts from several accounts. Change the "
        "text or move the time."
    ]
    assert post_identical_text_conflicts(post=post, at=AT - timedelta(minutes=3)) == []


@pytest.mark.django_db
def test_an_account_of_the_same_workspace_is_named(brand, ours):
    sister = x_factory_account(brand, "sister")
    other_post = planned(sister, "Big launch today", AT)
    post = PostFactory(workspace=brand, texts=["Big launch today"], accounts=[ours])

    assert post_identical_text_conflicts(post=post, at=AT) == [
        f"@ours (X) would publish the same text as @sister (X) (post #{other_post.pk} at 09:00 "
        "UTC), less than 5 minutes apart; X forbids identical posts from several accounts. "
        "Change the text or move the time."
    ]


@pytest.mark.django_db
def test_two_x_accounts_of_one_post_saying_the_same(brand, ours):
    sister = x_factory_account(brand, "sister")
    post = PostFactory(workspace=brand, texts=["Hello"], accounts=[ours, sister])

    assert post_identical_text_conflicts(post=post, at=AT) == [
        "@ours (X) and @sister (X) would publish the same text at the same time; X forbids "
        "identical posts from several accounts. Give one of them its own text."
    ]
    post.targets.filter(account=sister).update(text_override="Hello from the sister brand")
    assert post_identical_text_conflicts(post=post, at=AT) == []


@pytest.mark.django_db
def test_any_part_of_a_thread_counts_and_spacing_is_ignored(brand, ours):
    sister = x_factory_account(brand, "sister")
    planned(sister, "Part  two", AT)
    post = PostFactory(workspace=brand, texts=["Part one", "Part two"], accounts=[ours])

    assert len(post_identical_text_conflicts(post=post, at=AT)) == 1


@pytest.mark.django_db
def test_the_same_account_and_other_networks_are_not_conflicts(brand, ours):
    planned(ours, "Hello", AT)  # X's own duplicate rule covers this one
    planned(SandboxAccountFactory(workspace=brand), "Hello", AT)
    post = PostFactory(workspace=brand, texts=["Hello"], accounts=[ours])

    assert post_identical_text_conflicts(post=post, at=AT) == []


@pytest.mark.django_db
def test_texts_that_render_differently_do_not_conflict(brand, ours):
    sister = x_factory_account(brand, "sister")
    planned(sister, "Daily tip #{n}", AT, text_variants=[])
    post = PostFactory(workspace=brand, texts=["Daily tip #{n}"], accounts=[ours])
    PlannedScheduleFactory(post=post, next_occurrence_at=AT, occurrence_count=4)

    assert post_identical_text_conflicts(post=post, at=AT) == []


@pytest.mark.parametrize(
    ("status", "field"),
    [(S.PENDING, "next_attempt_at"), (S.PUBLISHED, "published_at")],
)
@pytest.mark.django_db
def test_jobs_waiting_or_just_published_count(brand, ours, status, field):
    sister = x_factory_account(brand, "sister")
    other_post = PostFactory(workspace=brand, texts=["Hello"], accounts=[sister])
    PublishJobFactory(
        post=other_post,
        account=sister,
        status=status,
        occurrence_at=AT - timedelta(hours=1),
        **{field: AT + timedelta(minutes=2)},
    )
    post = PostFactory(workspace=brand, texts=["Hello"], accounts=[ours])

    assert len(post_identical_text_conflicts(post=post, at=AT)) == 1
    assert post_identical_text_conflicts(post=post, at=AT + timedelta(minutes=8)) == []
