"""import_posts / export_posts: the CSV format of publishing/post_csv.py, read and
written through the composer's services."""

from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
import tablib
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import AuditEvent
from posts.models import Post, Tag
from publishing.demo import demo_seed
from publishing.post_csv import COLUMNS, account_spec_split, parts_join, parts_split
from scheduling.models import Schedule
from tests.factories import MembershipFactory, UserFactory
from tests.post_rows import posts_csv

pytestmark = pytest.mark.django_db

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "import-example.csv"
BEFORE_EXAMPLE = datetime(2027, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def demo():
    with time_machine.travel(BEFORE_EXAMPLE, tick=False):
        yield demo_seed()


def _run(command: str, *args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(command, "--no-progress", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _refused(command: str, *args) -> tuple[CommandError, str, str]:
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as raised:
        call_command(command, "--no-progress", *args, stdout=out, stderr=err)
    return raised.value, out.getvalue(), err.getvalue()


def _csv(tmp_path, *rows: dict) -> str:
    path = tmp_path / "posts.csv"
    path.write_text(posts_csv(rows))
    return str(path)


GOOD = {
    "workspace": "kairos-demo",
    "accounts": "@kairos_news",
    "text": "Imported and fine.",
    "date": "2027-02-01",
    "time": "10:00",
    "timezone": "Europe/Paris",
}


def test_parts_split_on_a_line_of_three_dashes_and_join_back():
    assert parts_split("one\n---\ntwo --- still two\r\n --- \nthree\n") == (
        "one",
        "two --- still two",
        "three",
    )
    assert parts_split(parts_join(["a", "b"])) == ("a", "b")


def test_the_example_file_imports_into_the_demo(demo):
    before = Post.objects.count()

    out, _ = _run("import_posts", str(EXAMPLE))

    assert "Imported 7 posts." in out
    new = Post.objects.filter(workspace=demo).order_by("-pk")[:7][::-1]
    assert Post.objects.count() == before + 7
    morning, thread, tips, roundup, reminder, launch, draft = new
    assert morning.schedule.next_occurrence_at == datetime(2027, 1, 11, 7, 30, tzinfo=UTC)
    assert sorted(t.name for t in morning.tags.all()) == ["morning", "news"]
    assert [p.text for p in thread.parts.all()] == [
        "A thread, part 1: every part goes out in order…",
        "…part 2 replies to part 1.",
    ]
    assert sorted(t.account.handle for t in thread.targets.all()) == [
        "kairos_events",
        "kairos_tips",
    ]
    assert thread.schedule.timezone == "America/New_York"
    assert thread.priority == Post.Priority.HIGH
    assert tips.schedule.kind == Schedule.Kind.INTERVAL and tips.schedule.unit == "days"
    assert tips.text_variants == ["Another tip for {weekday}.", "A third tip, used in turn."]
    assert roundup.schedule.cron == "0 17 * * FRI"
    assert reminder.schedule.rrule == "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4"
    assert reminder.priority == Post.Priority.URGENT
    assert launch.campaign.name == "Launch week" and launch.status == Post.Status.DRAFT
    assert draft.status == Post.Status.DRAFT and not hasattr(draft, "schedule")
    assert AuditEvent.objects.filter(action="post.scheduled", subject_id=morning.pk).exists()
    assert AuditEvent.objects.filter(action="tag.created", workspace=demo).count() == 3


def test_dry_run_prints_what_would_be_created_and_stores_nothing(demo):
    before = Post.objects.count()

    out, _ = _run("import_posts", str(EXAMPLE), "--dry-run")

    assert "row 2: would create post “Good morning from Kairos!” in kairos-demo" in out
    assert "(a thread of 2)" in out
    assert "Dry run: 7 posts would be created; nothing was stored." in out
    assert Post.objects.count() == before
    assert not Tag.objects.filter(name="morning").exists()


def test_refused_rows_are_named_by_row_and_column_and_nothing_is_stored(demo, tmp_path):
    path = _csv(
        tmp_path,
        GOOD,
        {**GOOD, "accounts": "@nobody"},
        {**GOOD, "date": "2027-13-01"},
        {**GOOD, "date": "2026-12-01"},
        {**GOOD, "text": "x" * 5001},
        {**GOOD, "campaign": "No such campaign", "priority": "asap"},
    )
    before = Post.objects.count()

    with time_machine.travel(BEFORE_EXAMPLE, tick=False):
        refusal, out, err = _refused("import_posts", path)

    assert refusal.returncode == 1
    assert Post.objects.count() == before
    lines = err.splitlines()
    assert "row 3, column accounts: @nobody is no account of kairos-demo." in lines
    assert "row 4, column date: “2027-13-01” is no date; write YYYY-MM-DD." in lines
    assert any(line.startswith("row 5, column time: 2026-12-01 10:00") for line in lines)
    assert any(line.startswith("row 6, column text: @kairos_news") for line in lines)
    assert any(line.startswith("row 7, column priority: “asap”") for line in lines)
    assert not any(line.startswith("row 2") for line in lines)
    assert "5 errors; nothing was stored." in out


def test_partial_stores_the_rows_that_pass(demo, tmp_path):
    path = _csv(tmp_path, GOOD, {**GOOD, "accounts": "@nobody"})
    before = Post.objects.count()

    with time_machine.travel(BEFORE_EXAMPLE, tick=False):
        _refused("import_posts", path, "--partial")

    assert Post.objects.count() == before + 1
    assert Post.objects.latest("pk").parts.get().text == "Imported and fine."


def test_a_user_imports_only_into_workspaces_where_they_compose(demo, tmp_path):
    outsider = UserFactory(username="outsider")
    MembershipFactory(user=outsider)
    path = _csv(tmp_path, GOOD)

    with time_machine.travel(BEFORE_EXAMPLE, tick=False):
        _, _, err = _refused("import_posts", path, "--user", "outsider")
    assert "row 2, column workspace: No workspace “kairos-demo” found." in err
    member = UserFactory(username="member")
    MembershipFactory(user=member, workspace=demo)
    with time_machine.travel(BEFORE_EXAMPLE, tick=False):
        _run("import_posts", path, "--user", "member")

    post = Post.objects.latest("pk")
    assert post.author == member and post.workspace == demo


def test_unknown_columns_are_refused_before_any_row(demo, tmp_path):
    path = tmp_path / "typo.csv"
    path.write_text("workspace,txt\nkairos-demo,hello\n")
    _, _, err = _refused("import_posts", str(path))

    assert "the file: Unknown columns: txt. Missing columns: text." in err


def test_export_then_import_makes_the_same_posts_again(demo, tmp_path):
    exported = tmp_path / "export.csv"
    with time_machine.travel(BEFORE_EXAMPLE, tick=False):
        _run("import_posts", str(EXAMPLE))
        _run("export_posts", "--workspace", "kairos-demo", "-o", str(exported))
        first = tablib.Dataset().load(exported.read_text(), format="csv")
        _run("import_posts", str(exported))
        _, err = _run("export_posts", "--workspace", "kairos-demo", "-o", str(exported))
    second = tablib.Dataset().load(exported.read_text(), format="csv")

    assert f"Wrote {len(second)} posts" in err
    assert list(first.headers) == list(COLUMNS)
    assert len(first) == Post.objects.filter(workspace=demo).count() // 2
    assert sorted(second.dict, key=str) == sorted(first.dict * 2, key=str)


def test_an_account_is_named_by_handle_with_its_network_where_needed():
    assert account_spec_split("x:@brand") == ("x", "brand")
    assert account_spec_split("@brand") == ("", "brand")
    assert account_spec_split("brand@social.example:8443") == ("", "brand@social.example:8443")
    assert account_spec_split("mastodon:@brand@social.example") == (
        "mastodon",
        "brand@social.example",
    )
