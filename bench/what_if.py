"""The generated app with some of its costs taken away, for the instruction count's what-ifs.

    BENCH_WHAT_IFS=no_guard,no_stat PYTHONPATH=/path/to/bench gunicorn what_if:server

in a variant's directory (bench/suite.py does this for the layout's what-ifs).

Each name is one of probes.py's what-ifs, applied for the worker's whole life.
"""

import contextlib
import os

import probes
from app import app

_applied = contextlib.ExitStack()
for name in os.environ["BENCH_WHAT_IFS"].split(","):
    _applied.enter_context(getattr(probes, name)(app))
server = app.server
