import pytest

from publishing import dispatch


@pytest.fixture
def tick(django_capture_on_commit_callbacks):
    """One dispatch tick, with its after-commit sends run as a real commit would."""

    def run(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return dispatch.tick(**kwargs)

    return run
