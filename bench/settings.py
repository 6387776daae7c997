"""Settings of the gunicorn the benchmark starts: the product's, plus the floor view (`bench.urls`).

The product never imports this module; only `python -m bench run` points DJANGO_SETTINGS_MODULE here.
"""

import os

from iam_portal.settings import *  # noqa: F403 (the product's settings, unchanged)

ROOT_URLCONF = "bench.urls"
# The JSON file of the statements the floor view replays (written by `bench.floor.statements_file`).
BENCH_FLOOR_STATEMENTS = os.environ.get("BENCH_FLOOR_STATEMENTS", "")
