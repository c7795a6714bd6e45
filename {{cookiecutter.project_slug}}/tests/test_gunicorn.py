"""gunicorn.conf.py: how `gunicorn app:server` runs the app."""

import gc
import runpy

from conftest import PROJECT

CONF = runpy.run_path(str(PROJECT / "gunicorn.conf.py"))


def test_proxies_are_trusted_only_through_the_apps_own_setting():
    assert CONF["forwarded_allow_ips"] == "" and CONF["secure_scheme_headers"] == {}


def test_each_worker_freezes_the_loaded_app_out_of_the_garbage_collectors_sight():
    before = gc.get_freeze_count()
    try:
        CONF["post_worker_init"](None)
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()
