import gc
import importlib

import config.wsgi


def test_the_web_process_freezes_what_it_loaded_out_of_the_collectors_walks():
    gc.unfreeze()
    try:
        importlib.reload(config.wsgi)
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
