"""The Grafana dashboard and the Prometheus rules in deploy/ parse, and ask only for
metrics Kairos exports; with promtool installed (Debian: `apt-get install prometheus`),
the rules and the scrape configuration pass its checks and the alerts' own tests."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.utils import timezone

from publishing.metrics import metrics_exposition

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
DASHBOARD = ROOT / "deploy" / "grafana" / "kairos-dashboard.json"
METRIC_NAME = re.compile(r"\bkairos_[a-z_]+\b")
SAMPLE_SUFFIXES = {"counter": ("",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count")}


@pytest.fixture
def exported(db) -> set[str]:
    """Every sample name /metrics can carry, from the TYPE lines of a real exposition
    (a labelled series nobody counted yet still has its TYPE line). Creation times
    (`_created`) are left out: multi-process mode does not export them."""
    names = set()
    for line in metrics_exposition(now=timezone.now()).decode().splitlines():
        if line.startswith("# TYPE kairos_") and "_created " not in line:
            _, _, name, kind = line.split()
            names |= {name + suffix for suffix in SAMPLE_SUFFIXES[kind]}
    return names


def alert_rules() -> list[dict]:
    document = yaml.safe_load((PROMETHEUS / "kairos-alerts.yml").read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_the_alerts_the_issue_asks_for_exist():
    assert {
        "KairosTickStalled",
        "KairosLatenessP99High",
        "KairosJobsNeedReview",
        "KairosAccountNeedsReauth",
    } <= {rule["alert"] for rule in alert_rules()}


def test_every_metric_the_rules_use_is_exported(exported):
    used = {name for rule in alert_rules() for name in METRIC_NAME.findall(rule["expr"])}
    assert used and used <= exported, used - exported


def test_every_metric_the_alert_tests_feed_is_exported(exported):
    tests = yaml.safe_load((PROMETHEUS / "kairos-alerts.test.yml").read_text())["tests"]
    used = {
        name
        for test in tests
        for series in test["input_series"]
        for name in METRIC_NAME.findall(series["series"])
    }
    assert used and used <= exported, used - exported


def test_every_metric_the_dashboard_plots_is_exported(exported):
    used = {name for expr in dashboard_exprs() for name in METRIC_NAME.findall(expr)}
    assert used and used <= exported, used - exported


def test_the_dashboard_plots_every_kairos_metric(exported):
    plotted = {name for expr in dashboard_exprs() for name in METRIC_NAME.findall(expr)}
    bases = {re.sub(r"_(bucket|sum|count)$", "", name) for name in plotted}
    missing = {name for name in exported if re.sub(r"_(bucket|sum|count)$", "", name) not in bases}
    assert not missing


def test_the_dashboard_panels_have_unique_ids_and_fit_the_grid():
    panels = json.loads(DASHBOARD.read_text())["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        assert panel["targets"], panel["title"]


PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool not installed (Debian: apt-get install prometheus)"
)


def promtool(*args: str, cwd: Path = PROMETHEUS) -> None:
    done = subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
def test_promtool_accepts_the_rules():
    promtool("check", "rules", "kairos-alerts.yml")


@needs_promtool
def test_the_alerts_fire_on_their_series_and_only_then():
    promtool("test", "rules", "kairos-alerts.test.yml")


@needs_promtool
def test_promtool_accepts_the_scrape_configuration(tmp_path):
    token = tmp_path / "kairos-metrics-token"
    token.write_text("a-token\n")
    config = (PROMETHEUS / "prometheus.yml").read_text()
    config = config.replace("/etc/prometheus/kairos-metrics-token", str(token))
    (tmp_path / "prometheus.yml").write_text(config)
    shutil.copy(PROMETHEUS / "kairos-alerts.yml", tmp_path)
    promtool("check", "config", "prometheus.yml", cwd=tmp_path)
