"""The floor of a table page: the least a page showing the same rows could cost.

`statements_capture` records, in this process, the SQL statements (text and parameters, as Django hands
them to the database driver) that one request of ours runs. `floor_view`, served at /bench/floor/ only by
`bench.urls` (the gunicorn of `python -m bench run`), runs the same statements with a plain cursor, fetches
their rows and renders the first 50 rows of the page queries (those with LIMIT 51, the page size plus
one) through a minimal template: no ORM, no model instances, no session or permission logic, no URLs. The
benchmark measures it request by request beside ours; ours / floor is what our code adds on top of the
database work the page cannot avoid. Every selected column becomes a cell, so the floor renders more
cells than our table shows: if anything it is generous to us.
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import re
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection
from django.http import Http404, HttpResponse
from django.template import engines

PAGE_ROWS = 50  # the product's page size: its page queries fetch one row more to know whether one follows
_PAGE_QUERY = re.compile(rf"\bLIMIT {PAGE_ROWS + 1}\b", re.IGNORECASE)
_READ = re.compile(r"\s*\(*\s*(SELECT|WITH)\b", re.IGNORECASE)

# Parameter types JSON cannot hold, written as {"<tag>": "<text>"} and read back to the same type, so
# the replayed statement binds exactly what ours bound.
_TAGGED = {
    "datetime": datetime.datetime.fromisoformat,
    "date": datetime.date.fromisoformat,
    "time": datetime.time.fromisoformat,
    "uuid": uuid.UUID,
    "decimal": Decimal,
}
_TEMPLATE = (
    "<table>{% for row in rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>"
    "{% endfor %}</table>"
)

Statement = tuple[str, list | dict | None]


def param_encode(value):
    """A statement parameter as JSON can hold it (see `_TAGGED`)."""
    if isinstance(value, list | tuple):
        return [param_encode(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    # datetime before date: a datetime is a date too.
    for tag, kind in (
        ("datetime", datetime.datetime),
        ("date", datetime.date),
        ("time", datetime.time),
        ("uuid", uuid.UUID),
        ("decimal", Decimal),
    ):
        if isinstance(value, kind):
            return {tag: value.isoformat() if hasattr(value, "isoformat") else str(value)}
    raise TypeError(f"The floor cannot replay a parameter of type {type(value).__name__}: {value!r}")


def param_decode(value):
    if isinstance(value, list):
        return [param_decode(item) for item in value]
    if isinstance(value, dict):
        ((tag, text),) = value.items()
        return _TAGGED[tag](text)
    return value


def params_copy(params):
    """The parameters as they were when executed (the caller may reuse its list)."""
    if isinstance(params, Mapping):
        return dict(params)
    return None if params is None else list(params)


def params_encode(params):
    """A statement's parameters: None, a sequence, or a mapping (named %(name)s placeholders)."""
    if isinstance(params, Mapping):
        return {"named": {name: param_encode(value) for name, value in params.items()}}
    return None if params is None else [param_encode(value) for value in params]


def params_decode(params):
    if isinstance(params, dict):
        return {name: param_decode(value) for name, value in params["named"].items()}
    return param_decode(params)


def statements_capture(user, path: str, headers: dict | None = None) -> tuple[list[Statement], int]:
    """The reading statements one GET of `path` by `user` runs in this process, and how many other
    statements it ran (the floor replays reads only: a replayed write would change the data)."""
    from bench.clients import InProcessClient  # the test Client: only once Django is set up

    client = InProcessClient(user)
    client.get(path, headers)  # untimed first: what a process loads once is not the page's work
    ran: list[Statement] = []

    def record(execute, sql, params, many, context):
        ran.append((sql, params_copy(params)))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        response = client.get(path, headers)
    if response.status != 200:
        raise CommandError(f"{path} answered {response.status} to {user.email}: no floor to capture.")
    reads = [(sql, params) for sql, params in ran if _READ.match(sql)]
    return reads, len(ran) - len(reads)


def statements_save(statements: list[Statement], file_name: str) -> None:
    with open(file_name, "w", encoding="utf-8") as file:
        json.dump([[sql, params_encode(params)] for sql, params in statements], file)


@contextmanager
def statements_file(statements: list[Statement]) -> Iterator[str]:
    """A temporary JSON file of `statements` for the floor view (BENCH_FLOOR_STATEMENTS), removed after."""
    file = tempfile.NamedTemporaryFile(prefix="iam-benchmark-floor-", suffix=".json", delete=False)  # noqa: SIM115
    file.close()
    try:
        statements_save(statements, file.name)
        yield file.name
    finally:
        os.unlink(file.name)


@functools.cache
def statements_load(file_name: str) -> list[Statement]:
    """Read once per process: the floor does not pay for reading its own script."""
    with open(file_name, encoding="utf-8") as file:
        return [(sql, params_decode(params)) for sql, params in json.load(file)]


@functools.cache
def _template():
    return engines["django"].from_string(_TEMPLATE)


def floor_view(request):
    """Every captured statement through a plain cursor, then the first PAGE_ROWS rows of the page queries
    (LIMIT 51: one per kind of identity when the table merges kinds; the biggest result when none is)."""
    file_name = getattr(settings, "BENCH_FLOOR_STATEMENTS", "")
    if not file_name:
        raise Http404("No statements to replay (BENCH_FLOOR_STATEMENTS is not set).")
    page: list = []
    biggest: list = []
    with connection.cursor() as cursor:
        for sql, params in statements_load(file_name):
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            if _PAGE_QUERY.search(sql):
                page += rows
            elif len(rows) > len(biggest):
                biggest = rows
    return HttpResponse(_template().render({"rows": (page or biggest)[:PAGE_ROWS]}))
