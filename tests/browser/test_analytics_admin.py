"""An account's analytics page after a demo with sandbox metrics: every chart drawn,
every table filled, as a person opening it would see."""

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import Membership
from analytics.best_times import MIN_POSTS_FOR_ADVICE
from analytics.demo import demo_history_seed
from tests.browser.conftest import SCREENSHOTS
from tests.factories import SandboxAccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHARTS = ("weekly", "followers", "heatmap")

# Whether a canvas has any painted pixel: a chart that failed to draw leaves it blank.
PAINTED = """canvas => {
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) return true;
    return false;
}"""


def test_an_accounts_charts_are_drawn_with_their_tables(page: Page, login_as, screenshot):
    member = login_as(
        Membership.Role.VIEWER, workspace__name="Kairos demo", workspace__slug="kairos-demo"
    )
    account = SandboxAccountFactory(workspace=member.workspace, handle="kairos_news")
    demo_history_seed(workspace=member.workspace, now=timezone.now())

    page.goto("/admin/analytics/metricssnapshot/overview/")
    page.get_by_role("link", name="@kairos_news (Sandbox)").click()

    expect(page.get_by_role("heading", name="@kairos_news (Sandbox)")).to_be_visible()
    expect(page.get_by_text("Simulated numbers")).to_be_visible()
    for key in CHARTS:
        canvas = page.locator(f"#chart-{key}")
        expect(canvas).to_be_visible()
        page.wait_for_function("key => document.getElementById('chart-' + key).chart", arg=key)
        assert canvas.evaluate(PAINTED), f"the {key} chart is blank"
        rows = page.locator(f"#table-{key} tbody tr")
        assert rows.count() > 1, f"the {key} table is empty"
        expect(rows.first).not_to_contain_text("Nothing in this period")
    expect(page.locator("#table-best_times tbody tr").first).to_contain_text("history")
    # Cells below the confidence rule: "too few posts" in the table, hatched grey in
    # the chart, in a dataset whose legend says so.
    thin = page.locator("#table-heatmap td.thin")
    assert thin.count() > 0, "the demo has no cell with too few posts"
    expect(thin.first).to_contain_text("too few posts")
    legend = page.locator("#chart-heatmap").evaluate(
        "canvas => canvas.chart.legend.legendItems.map(item => item.text)"
    )
    assert legend == [
        f"mean engagements per post ({MIN_POSTS_FOR_ADVICE} posts or more)",
        f"too few posts (under {MIN_POSTS_FOR_ADVICE}): no advice",
    ]
    drawn = page.locator("#chart-heatmap").evaluate(
        "canvas => canvas.chart.data.datasets.map(set => [set.data.length,"
        " set.backgroundColor instanceof CanvasPattern])"
    )
    assert drawn == [
        [page.locator("#table-heatmap td.heat:not(.thin):not(:empty)").count(), False],
        [thin.count(), True],
    ]
    screenshot(page, "analytics-account")
    page.locator("#section-heatmap").screenshot(path=SCREENSHOTS / "analytics-heatmap.png")
    assert account.pk
