"""The operator's commands as an operator runs them: `manage.py …` processes against
PostgreSQL holding the demo (seed_demo), checked by what they print, their exit
status and what the database holds afterwards."""

import json
import subprocess
import sys
from datetime import timedelta

import pytest
import tablib
from django.utils import timezone

from accounts.models import SocialAccount
from posts.models import Post
from publishing.models import JobStatus, PublishAttempt, PublishJob
from tests.integration.conftest import ROOT, _process_env
from tests.post_rows import posts_csv

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def manage(tmp_path):
    env = {"PATH": "/usr/bin:/bin"} | _process_env(tmp_path)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


@pytest.fixture
def demo(manage):
    seeded = manage("seed_demo")
    assert seeded.returncode == 0, seeded.stderr
    return SocialAccount.objects.filter(workspace__slug="kairos-demo")


def _csv(tmp_path, rows: list[dict]) -> str:
    path = tmp_path / "posts.csv"
    path.write_text(posts_csv(rows))
    return str(path)


def _row(**changes) -> dict:
    tomorrow = timezone.now() + timedelta(days=1)
    return {
        "workspace": "kairos-demo",
        "accounts": "@kairos_news",
        "text": "From the integration test\n---\nand its second part",
        "date": f"{tomorrow:%Y-%m-%d}",
        "time": "10:00",
        "timezone": "Europe/Paris",
        "tags": "imported",
        **changes,
    }


def test_import_reports_row_errors_stores_nothing_then_imports_and_round_trips(
    manage, demo, tmp_path
):
    before = Post.objects.count()
    bad = _csv(tmp_path, [_row(), _row(accounts="@nobody"), _row(repeat="weekly")])

    refused = manage("import_posts", bad, "--no-progress")

    assert refused.returncode == 1
    assert "row 3, column accounts: @nobody is no account of kairos-demo." in refused.stderr
    assert "row 4, column repeat: “weekly”" in refused.stderr
    assert Post.objects.count() == before

    good = _csv(tmp_path, [_row(), _row(accounts="@kairos_tips @kairos_events", text="Two")])
    preview = manage("import_posts", good, "--dry-run", "--no-progress")
    assert preview.returncode == 0 and "Dry run: 2 posts would be created" in preview.stdout
    assert Post.objects.count() == before
    imported = manage("import_posts", good)
    assert imported.returncode == 0, imported.stderr
    assert "Imported 2 posts." in imported.stdout
    assert Post.objects.count() == before + 2

    exported = manage("export_posts", "--workspace", "kairos-demo", "--no-progress")
    assert exported.returncode == 0
    rows = tablib.Dataset().load(exported.stdout, format="csv").dict
    assert len(rows) == Post.objects.filter(workspace__slug="kairos-demo").count()
    assert {**_row(), "accounts": "sandbox:@kairos_news", "time": "10:00:00"}.items() <= next(
        row for row in rows if row["text"].startswith("From the integration test")
    ).items()


def _in_review(account: SocialAccount) -> PublishJob:
    post = Post.objects.filter(workspace=account.workspace, targets__account=account).first()
    now = timezone.now()
    job = PublishJob.objects.create(
        post=post,
        account=account,
        occurrence_at=now - timedelta(hours=1),
        due_at=now - timedelta(hours=1),
        next_attempt_at=now - timedelta(hours=1),
        status=JobStatus.NEEDS_REVIEW,
        attempt_count=1,
        reconcile_count=3,
    )
    PublishAttempt.objects.create(
        job=job, number=1, started_at=now - timedelta(minutes=50), outcome="uncertain"
    )
    return job


def test_reconcile_and_requeue_settle_an_accounts_review_jobs(manage, demo):
    news = demo.get(handle="kairos_news")
    first, second = _in_review(news), _in_review(news)

    dry = manage("reconcile", "--account", "@kairos_news", "--dry-run", "--no-progress")
    assert dry.returncode == 0 and "Dry run: 2 jobs would be reconciled" in dry.stdout
    reconciled = manage("reconcile", str(first.pk), "--no-progress")

    assert reconciled.returncode == 0, reconciled.stderr
    assert f"job {first.pk}: not on the network; it goes out again" in reconciled.stdout
    assert PublishJob.objects.get(pk=first.pk).status == JobStatus.PENDING

    requeued = manage("requeue", "--account", "sandbox:@kairos_news", "--no-progress")
    assert requeued.returncode == 0, requeued.stderr
    assert "Requeued 1 of 1 jobs." in requeued.stdout
    assert PublishJob.objects.get(pk=second.pk).status == JobStatus.PENDING
    assert manage("requeue", "424242").returncode == 2


def test_check_accounts_exits_by_what_needs_attention(manage, demo):
    healthy = manage("check_accounts", "--json", "--no-progress")

    assert healthy.returncode == 0, healthy.stderr
    accounts = json.loads(healthy.stdout)["accounts"]
    assert {a["handle"] for a in accounts} >= {"kairos_news", "kairos_tips", "kairos_events"}
    assert not any(a["needs_attention"] for a in accounts)

    demo.filter(handle="kairos_tips").update(status=SocialAccount.Status.NEEDS_REAUTH)
    attention = manage("check_accounts", "--workspace", "kairos-demo", "--no-progress")
    assert attention.returncode == 1
    assert "NEEDS ATTENTION: @kairos_tips (Sandbox) in kairos-demo" in attention.stdout


def test_send_test_post_publishes_on_the_sandbox_and_prints_a_link_that_opens(manage, demo, client):
    sent = manage("send_test_post", "@kairos_events", "--workspace", "kairos-demo")

    assert sent.returncode == 0, sent.stderr
    # The test post's job; the demo's history holds published jobs of its own.
    job = PublishJob.objects.get(
        account__handle="kairos_events",
        status=JobStatus.PUBLISHED,
        post__parts__text__startswith="Kairos test post",
    )
    assert job.external_url in sent.stdout
    path = job.external_url.removeprefix("http://testserver")
    page = client.get(path)
    assert page.status_code == 200
    assert "Kairos test post" in page.content.decode()
