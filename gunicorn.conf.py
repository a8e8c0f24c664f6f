"""Gunicorn reads this file from the folder it starts in (the repository, the image's /app)."""

import os


def child_exit(server, worker) -> None:
    """A web worker exited: prometheus-client stops counting its live gauges.

    This runs in gunicorn's master, where Django's apps are not loaded; the settings
    alone say where the metrics folder is (config/settings.py).
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings

    if settings.PROMETHEUS_MULTIPROC_DIR:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, settings.PROMETHEUS_MULTIPROC_DIR)
