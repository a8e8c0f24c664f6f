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


def test_the_web_process_collects_young_objects_every_50000_not_every_700():
    before = gc.get_threshold()
    try:
        importlib.reload(config.wsgi)
        assert gc.get_threshold() == (50_000, 20, 10)
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
