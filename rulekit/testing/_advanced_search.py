"""The emulator's advanced search: ListResourcesByAdvancedSearch and its aggregate variant, over
the documented subset of the platform's SQL (research16.md §1.3, docs/sweeps.md).

Served: ``SELECT <columns | * | COUNT(1)> [WHERE p AND p ...] [GROUP BY c] [ORDER BY c|COUNT(1)
[ASC|DESC]]`` without FROM, where a predicate is ``c = literal``, ``c > literal`` or ``c LIKE
'prefix%'`` (wildcards as a suffix only). Columns are the keys of the resource type's property file
(the one a ``ResourceType = '...'`` predicate names, else any type's); a configuration column walks
the configuration by its dotted key, gathering every element of the arrays on the way (a
condition on it holds when any element matches). An answer holds at most 1,000 rows, silently cut
(no paging token). Values keep the configuration's JSON types; an array is a JSON array and a
missing property null. Everything else (OR, NOT, IN, <, LIMIT, parentheses, other aggregates, the
unsupported keywords) is answered 400 InvalidParameter.Sql; the code is not documented.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

from .._advanced_search import MAX_ROWS, METADATA_COLUMNS, property_columns
from ._faults import ApiCallError

if TYPE_CHECKING:
    from ._emulator import ConfigEmulator
    from ._store import StoredResource

__all__ = ["register", "search"]

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'[^']*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<word>[A-Za-z_][A-Za-z0-9_.]*)"
    r"|(?P<op><>|!=|>=|<=|[=<>(),*]))"
)
_UNSUPPORTED = {"ALL", "DISTINCT", "FROM", "HAVING", "JOIN", "UNION"}  # the docs' own list
_UNSERVED = {"OR", "NOT", "IN", "IS", "BETWEEN", "LIMIT", "OFFSET", "AVG", "MAX", "MIN", "SUM"}
_KEYWORDS = {"SELECT", "WHERE", "AND", "GROUP", "ORDER", "BY", "ASC", "DESC", "LIKE", "COUNT"}
_DEFAULT = (
    "AccountId",
    "RegionId",
    "ResourceId",
    "ResourceType",
    "ResourceName",
    "ResourceCreationTime",
    "ResourceGroupId",
)
_ABSENT = object()


def _error(message: str) -> ApiCallError:
    return ApiCallError(400, "InvalidParameter.Sql", message)


class _Predicate(NamedTuple):
    column: str
    op: str  # "=", ">", "LIKE"
    value: Any


class _Query(NamedTuple):
    items: list[str]  # column names, "COUNT(1)"
    where: list[_Predicate]
    group: str | None
    order: str | None
    descending: bool


def _tokens(sql: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    sql = sql.rstrip()
    while pos < len(sql):
        m = _TOKEN.match(sql, pos)
        if m is None or m.end() == pos:
            raise _error(f"Unexpected character at position {pos} of the SQL.")
        kind = m.lastgroup or ""
        text = m.group(kind)
        if kind == "word" and text.upper() in _UNSUPPORTED | _UNSERVED | _KEYWORDS:
            kind, text = "kw", text.upper()
        out.append((kind, text))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, sql: str) -> None:
        self.tokens = _tokens(sql)
        self.pos = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "")

    def take(self, kind: str, text: str | None = None) -> str:
        got = self.peek()
        if got[0] != kind or (text is not None and got[1] != text):
            if got[1] in _UNSUPPORTED | _UNSERVED:
                raise _error(f"{got[1]} is not supported in advanced search SQL.")
            raise _error(f"Expected {text or kind} but found {got[1] or 'the end'!r}.")
        self.pos += 1
        return got[1]

    def accept(self, kind: str, text: str) -> bool:
        if self.peek() == (kind, text):
            self.pos += 1
            return True
        return False

    def item(self) -> str:
        if self.accept("kw", "COUNT"):
            self.take("op", "(")
            inner = self.take("num") if self.peek()[0] == "num" else self.take("word")
            self.take("op", ")")
            return f"COUNT({inner})"
        return self.take("word")

    def query(self) -> _Query:
        self.take("kw", "SELECT")
        items = ["*"] if self.accept("op", "*") else [self.item()]
        while items != ["*"] and self.accept("op", ","):
            items.append(self.item())
        where: list[_Predicate] = []
        if self.accept("kw", "WHERE"):
            where.append(self.predicate())
            while self.accept("kw", "AND"):
                where.append(self.predicate())
        group = order = None
        descending = False
        if self.accept("kw", "GROUP"):
            self.take("kw", "BY")
            group = self.take("word")
        if self.accept("kw", "ORDER"):
            self.take("kw", "BY")
            order = self.item()
            descending = self.accept("kw", "DESC")
            if not descending:
                self.accept("kw", "ASC")
        self.take("end")
        return _Query(items, where, group, order, descending)

    def predicate(self) -> _Predicate:
        column = self.take("word")
        if self.accept("kw", "LIKE"):
            return _Predicate(column, "LIKE", _like(self.take("str")[1:-1]))
        op = self.take("op")
        if op not in ("=", ">"):
            raise _error(f"The operator {op} is not supported in advanced search SQL.")
        kind, text = self.peek()
        self.pos += 1
        if kind == "str":
            return _Predicate(column, op, text[1:-1])
        if kind == "num":
            return _Predicate(column, op, float(text))
        raise _error(f"Expected a value after {column} {op}.")


def _like(pattern: str) -> re.Pattern[str]:
    """Wildcards (``%`` any run, ``_`` one character) only as a suffix, as documented."""
    stem = pattern.rstrip("%_")
    if "%" in stem or "_" in stem:
        raise _error("Wildcards can be used only as suffixes.")
    tail = pattern[len(stem) :]
    return re.compile(re.escape(stem) + "".join(".*" if c == "%" else "." for c in tail) + r"\Z")


def _walk(node: Any, steps: list[str]) -> Any:
    """The value of a dotted key, arrays on the way gathered into one flat list."""
    for index, step in enumerate(steps):
        if isinstance(node, list):
            found = [_walk(item, steps[index:]) for item in node]
            flat: list[Any] = []
            for value in found:
                if value is _ABSENT:
                    continue
                flat.extend(value if isinstance(value, list) else [value])
            return flat
        if not isinstance(node, dict) or step not in node:
            return _ABSENT
        node = node[step]
    return node


def _tags(item: StoredResource) -> dict[str, list[str]]:
    return {k: list(v) for k, v in item.tags.items()}


#: The record's own columns (not the configuration's), as the property files name them.
_METADATA: dict[str, Callable[[StoredResource], Any]] = {
    "AccountId": lambda i: int(i.account_id) if i.account_id.isdigit() else i.account_id,
    "RegionId": lambda i: i.region,
    "ResourceId": lambda i: i.resource_id,
    "ResourceType": lambda i: i.resource_type,
    "ResourceName": lambda i: i.name or "",
    "ResourceGroupId": lambda i: i.resource_group_id or "",
    "ResourceStatus": lambda i: i.status or "",
    "ResourceDeleted": lambda i: 0 if i.deleted else 1,
    # The docs' literal form for this column (research16.md §1.3); rows' form is unverified.
    "ResourceCreationTime": lambda i: time.strftime(
        "%Y-%m-%d %H:%M:%S", time.gmtime(i.creation_time / 1000)
    ),
    "AvailabilityZone": lambda i: "",
    "Arn": lambda i: "",
    "Tags.Key": lambda i: list(_tags(i)),
    "Tags.Value": lambda i: [v for values in _tags(i).values() for v in values],
    "Tags.Kvpair": lambda i: [f"{k}:{v}" for k, values in _tags(i).items() for v in values],
    "TagsStr": lambda i: json.dumps(_tags(i)),
}


def _value(item: StoredResource, column: str) -> Any:
    metadata = _METADATA.get(column)
    if metadata is not None:
        return metadata(item)
    configuration = item.configuration
    if isinstance(configuration, str):
        try:
            configuration = json.loads(configuration)
        except ValueError:
            return None
    found = _walk(configuration, column.split("."))
    return None if found is _ABSENT else found


def _holds(value: Any, predicate: _Predicate) -> bool:
    values = value if isinstance(value, list) else [value]  # any element (the docs' arrays)
    want = predicate.value
    for one in values:
        if one is None or isinstance(one, (dict, list)):
            continue
        if predicate.op == "LIKE":
            if isinstance(one, str) and want.match(one):
                return True
        elif isinstance(want, float):
            number = isinstance(one, (int, float)) and not isinstance(one, bool)
            if number and ((one == want) if predicate.op == "=" else (one > want)):
                return True
        elif isinstance(one, str) and ((one == want) if predicate.op == "=" else (one > want)):
            return True
    return False


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, value)
    return (2, str(value))


def search(items: list[StoredResource], sql: str) -> dict[str, Any]:
    """The QueryResults of ``sql`` over ``items`` (the retained resources the caller may see)."""
    query = _Parser(sql).query()
    types = [p.value for p in query.where if p.column == "ResourceType" and p.op == "="]
    known = property_columns(types[0]) if types and isinstance(types[0], str) else None
    if types and known is None:
        known = {}
    named = [c for c in query.items if not c.startswith("COUNT(")]
    named += [p.column for p in query.where]
    named += [c for c in (query.group, query.order) if c and not c.startswith("COUNT(")]
    for column in named:
        if column == "*":
            continue
        valid = column in METADATA_COLUMNS or column in (known if known is not None else _any())
        if not valid:
            raise _error(f"The column {column} does not exist.")
    chosen = [i for i in items if all(_holds(_value(i, p.column), p) for p in query.where)]
    items_out = list(_DEFAULT) if query.items == ["*"] else query.items
    counts = [c for c in items_out if c.startswith("COUNT(")]
    if counts and query.group is None and len(items_out) > 1:
        raise _error("A column beside an aggregate needs GROUP BY.")
    rows: list[list[Any]]
    if query.group is not None:
        groups: dict[Any, int] = {}
        for item in chosen:
            key = _value(item, query.group)
            key = json.dumps(key) if isinstance(key, list) else key
            groups[key] = groups.get(key, 0) + 1
        if any(c not in (query.group, *counts) for c in items_out):
            raise _error("Only the GROUP BY column and aggregates can be selected.")
        rows = [[key if c == query.group else n for c in items_out] for key, n in groups.items()]
    elif counts:
        rows = [[len(chosen)]]
    else:
        if query.order is not None:
            chosen.sort(key=lambda i: _sort_key(_value(i, str(query.order))))
            if query.descending:
                chosen.reverse()
        rows = [[_value(item, c) for c in items_out] for item in chosen[:MAX_ROWS]]
    if query.group is not None and query.order is not None:
        at = items_out.index(query.order) if query.order in items_out else None
        if at is None:
            raise _error("ORDER BY with GROUP BY names a selected column or aggregate.")
        rows.sort(key=lambda r: _sort_key(r[at]), reverse=query.descending)
    return {"QueryResults": {"QueryResultList": {"Columns": items_out, "Values": rows[:MAX_ROWS]}}}


@cache
def _any() -> frozenset[str]:
    """Every column of every known type (an SQL that names no ResourceType)."""
    from .._advanced_search import _columns

    return frozenset(c for columns in _columns().values() for c in columns)


def register(emulator: ConfigEmulator) -> None:
    """Serve both advanced-search actions on ``emulator``."""

    def sql_of(params: dict[str, str]) -> str:
        if not params.get("Sql"):
            raise ApiCallError(400, "MissingParameter.Sql", "Sql is mandatory.")
        return params["Sql"]

    def single(params: dict[str, str]) -> dict[str, Any]:
        return search(emulator.store.select(None, None), sql_of(params))

    def aggregate(params: dict[str, str]) -> dict[str, Any]:
        if params.get("AggregatorId") != emulator.aggregator_id or not emulator.aggregator_id:
            raise ApiCallError(
                404, "Invalid.AggregatorId.Value", "The specified aggregator does not exist."
            )
        return search(emulator.store.select(None, None), sql_of(params))

    emulator.handle("config", "ListResourcesByAdvancedSearch", single)
    emulator.handle("config", "ListAggregateResourcesByAdvancedSearch", aggregate)
