import runpy
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]


def test_a_web_worker_that_exits_leaves_the_live_gauges_and_keeps_its_counts(settings, tmp_path):
    settings.PROMETHEUS_MULTIPROC_DIR = str(tmp_path)
    live, counts = tmp_path / "gauge_livesum_4242.db", tmp_path / "counter_4242.db"
    live.touch()
    counts.touch()
    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    hooks["child_exit"](server=None, worker=SimpleNamespace(pid=4242))
    assert (live.exists(), counts.exists()) == (False, True)


def test_without_metrics_an_exiting_worker_touches_nothing(settings, tmp_path, monkeypatch):
    settings.PROMETHEUS_MULTIPROC_DIR = ""
    monkeypatch.chdir(tmp_path)
    live = tmp_path / "gauge_livesum_4242.db"
    live.touch()
    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    hooks["child_exit"](server=None, worker=SimpleNamespace(pid=4242))
    assert live.exists()
