"""Keyset ("seek") pagination for the IAM tables.

A page is found by the sort values of the row before it, never by an OFFSET, so page 200 costs what
page 1 costs. Several querysets (users, groups, service accounts) can be paged as one list: each is
cut to one page with the same condition and the pieces are merged in Python, so the SQL stays one
indexed, limited query per kind.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import heapq
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.functions import Collate


@dataclass
class Page:
    rows: list
    next_cursor: str | None = None
    prev_cursor: str | None = None
    is_first: bool = True
    size: int = 50
    extra: dict = field(default_factory=dict)

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_prev(self) -> bool:
        return self.prev_cursor is not None


def sort_key(expression):
    """A text sort key that orders the same in the database as in Python (code point order).

    Pages that merge several querysets (the identity tables) compare rows in Python, so the database must not
    use a language collation there: on PostgreSQL the key is compared with the "C" collation; SQLite already
    compares text byte by byte."""
    if connection.vendor == "postgresql":
        return Collate(expression, "C")
    return expression


def table_state(request, sorts: dict, kinds: dict | None = None) -> dict:
    """The state of a table kept in its URL: search (?q=), sort, page cursor and, for identity tables, the
    type filter (?type=). Unknown values fall back to the defaults rather than failing."""
    sort = request.GET.get("sort", "name")
    state = {
        "search": request.GET.get("q", "")[:100].replace("\x00", ""),
        "sort": sort if sort in sorts else "name",
        "after": request.GET.get("after") or None,
        "before": request.GET.get("before") or None,
    }
    if kinds is not None:
        kind = request.GET.get("type", "")
        state["kind"] = kind if kind in kinds else None
    return state


def encode_cursor(values: Sequence) -> str:
    plain = [v.isoformat() if isinstance(v, datetime.datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


# What a cursor may hold: the sort values `encode_cursor` writes are texts (names, emails, dates),
# integers (ids, ranks) that fit a 64-bit column, and booleans. Anything else was not written by us.
MAX_CURSOR_LENGTH = 2000
_INT_LIMIT = 2**63


def _cursor_value_ok(value) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -_INT_LIMIT < value < _INT_LIMIT
    return isinstance(value, str) and "\x00" not in value


def _no_constants(name: str):
    raise ValueError(f"{name} is not a cursor value")


def decode_cursor(cursor: str | None, width: int) -> list | None:
    """A malformed or tampered cursor is treated as "first page", never as an error: wrong shape, NaN or
    Infinity, floats, integers too large for the database, nested values or NUL characters."""
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw, parse_constant=_no_constants)
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(values, list) or len(values) != width:
        return None
    if not all(_cursor_value_ok(v) for v in values):
        return None
    return values


def _seek(order: Sequence[str], values: Sequence, forward: bool) -> Q:
    """Rows strictly after (forward) or before the given sort values, for a mixed asc/desc order."""
    condition = Q(pk__in=[])
    for i, spec in enumerate(order):
        name = spec.lstrip("-")
        descending = spec.startswith("-")
        op = "lt" if descending == forward else "gt"
        step = Q(**{f"{name}__{op}": values[i]})
        for j in range(i):
            step &= Q(**{order[j].lstrip("-"): values[j]})
        condition |= step
    return condition


def _reverse(order: Sequence[str]) -> list[str]:
    return [spec[1:] if spec.startswith("-") else f"-{spec}" for spec in order]


def table_sorts(**columns: Sequence[str]) -> dict[str, list[str]]:
    """A table's sort orders from each column's ascending order: `column`, and `-column` its reverse."""
    sorts = {}
    for column, order in columns.items():
        sorts[column], sorts[f"-{column}"] = list(order), _reverse(order)
    return sorts


def _key(row, order: Sequence[str]):
    return tuple(getattr(row, spec.lstrip("-")) for spec in order)


def paginate(
    querysets: QuerySet | Sequence[QuerySet],
    order: Sequence[str],
    *,
    after: str | None = None,
    before: str | None = None,
    size: int = 50,
) -> Page:
    """One page of the (merged) querysets in `order`. Every name in `order` must be a field or an
    annotation present on each queryset, the last one unique per row across them (e.g. kind + pk)."""
    if isinstance(querysets, QuerySet):
        querysets = [querysets]
    after_values = decode_cursor(after, len(order))
    before_values = None if after_values else decode_cursor(before, len(order))
    forward = before_values is None
    cursor_values = after_values if forward else before_values
    query_order = list(order) if forward else _reverse(order)

    if cursor_values is not None:
        try:
            querysets = [qs.filter(_seek(order, cursor_values, forward)) for qs in querysets]
        except (ValueError, TypeError, ValidationError):
            # A hand-edited cursor whose values do not fit the columns: start again at the first page.
            return paginate(querysets, order, size=size)
    pieces = [list(qs.order_by(*query_order)[: size + 1]) for qs in querysets]

    rows = _merge(pieces, query_order)[: size + 1]
    has_more = len(rows) > size
    rows = rows[:size]
    if not forward:
        rows.reverse()

    page = Page(rows=rows, size=size, is_first=forward and cursor_values is None)
    if rows:
        first_key, last_key = _key(rows[0], order), _key(rows[-1], order)
        if forward:
            page.next_cursor = encode_cursor(last_key) if has_more else None
            page.prev_cursor = encode_cursor(first_key) if cursor_values is not None else None
        else:
            page.prev_cursor = encode_cursor(first_key) if has_more else None
            page.next_cursor = encode_cursor(last_key)
            page.is_first = not has_more
    return page


def _merge(pieces: list[list], order: Sequence[str]) -> list:
    if len(pieces) == 1:
        return pieces[0]
    # Each piece is already sorted by `order`; a heap merge keeps the same order across them.
    descending = [spec.startswith("-") for spec in order]

    class Key:
        __slots__ = ("values",)

        def __init__(self, row):
            self.values = tuple(getattr(row, spec.lstrip("-")) for spec in order)

        def __lt__(self, other):
            for mine, theirs, desc in zip(self.values, other.values, descending, strict=True):
                if mine != theirs:
                    return (mine > theirs) if desc else (mine < theirs)
            return False

    return list(heapq.merge(*pieces, key=Key))


def sorted_page(
    querysets: QuerySet | Sequence[QuerySet],
    sorts: Mapping[str, Sequence[str]],
    *,
    sort: str = "name",
    after: str | None = None,
    before: str | None = None,
    size: int = 50,
) -> Page:
    """One page of a table: the order is the one `sort` names in the table's `sorts`, or its "name" order
    when it names none there."""
    return paginate(querysets, sorts.get(sort, sorts["name"]), after=after, before=before, size=size)
