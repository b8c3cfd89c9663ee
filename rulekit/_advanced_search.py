"""Advanced search (ListResourcesByAdvancedSearch): which reads a search can serve, the SQL that
asks for them, and the configuration a rule sees from one answer row.

A rule's reads (a condition rule's featurePaths, a Python rule's ``reads=``) map to columns of the
resource type's property file: ``$.VpcAttributes.VpcId`` is the column ``VpcAttributes.VpcId``
(research16.md §1.3-1.4). A read the SQL cannot express exactly (an index or wildcard, a key
that is not a column, a date column whose text form is undocumented, a metadata column such as
``ResourceGroupId``) keeps the whole type on per-resource fetches. A row value the decoding cannot
map back to the configuration with certainty (an array, an integral float, a type that is not
the property's, a null where the rule could tell null from missing) sends that one resource to
GetDiscoveredResource. docs/sweeps.md lists what of this is verified against the docs.

Example::

    plan = plan_reads(rule, "ACS::ECS::Instance")     # a SearchPlan, or why not (a str)
    sql = select_sql(plan, "ACS::ECS::Instance", "cn-hangzhou", after=None)
    resource = searched_resource(row, plan, "ACS::ECS::Instance")  # None: fetch it instead
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ._errors import EventError, RulekitError
from ._paths import compile_path
from ._resource import Resource

if TYPE_CHECKING:
    from ._rule import Rule

__all__ = [
    "LISTED_COLUMNS",
    "MAX_ROWS",
    "SearchPlan",
    "SearchedResource",
    "UndeclaredRead",
    "count_sql",
    "declared_reads",
    "plan_reads",
    "searched_resource",
    "select_sql",
]

#: An answer has at most this many rows and no paging token (API reference, QueryResultList).
MAX_ROWS = 1000
#: Columns every property file has that describe the record, not the configuration: a read of
#: ``$.ResourceGroupId`` is the configuration's own key, which these need not equal.
METADATA_COLUMNS = frozenset(
    {
        "AccountId",
        "RegionId",
        "ResourceId",
        "ResourceType",
        "ResourceName",
        "AvailabilityZone",
        "ResourceCreationTime",
        "ResourceGroupId",
        "Arn",
        "ResourceStatus",
        "ResourceDeleted",
        "TagsStr",
        "Tags.Key",
        "Tags.Value",
        "Tags.Kvpair",
    }
)
#: What a sweep needs of every resource besides the rule's reads (the listing's part).
LISTED_COLUMNS = ("ResourceId", "RegionId", "AccountId", "ResourceName", "ResourceGroupId")
log = logging.getLogger("rulekit.sweep")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# JSON types a row value may have for each property type, the configuration's own types: a
# value of another type may have been converted by the search index, so it is not trusted.
_ACCEPTED: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "ip": (str,),
    "ip_range": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
}


class UndeclaredRead(EventError):
    """A rule read something of a searched resource that its reads did not declare; the sweep
    fetches that resource's whole configuration and runs the rule again."""


@cache
def _columns() -> Mapping[str, Mapping[str, str]]:
    # Beside this module in the wheel and in the FC zip (package data), read on first use.
    # Without it no read can be mapped to a column: every type is swept per resource.
    try:
        text = Path(__file__).with_name("_search_columns.json").read_text("utf-8")
        types: Mapping[str, Mapping[str, str]] = json.loads(text)["types"]
    except (OSError, ValueError, KeyError) as exc:
        log.error("advanced search off: the column table is unreadable: %s", exc)
        return {}
    return types


def property_columns(resource_type: str) -> Mapping[str, str] | None:
    """The searchable columns of ``resource_type`` and their property types (None: unknown)."""
    return _columns().get(resource_type)


class Column(NamedTuple):
    path: str  # the read, as declared
    name: str  # the dotted column
    steps: tuple[str, ...]
    kind: str  # the property file's type


class SearchPlan(NamedTuple):
    """The columns that serve a rule's reads on one resource type. ``null_is_absent``: the rule
    cannot tell a null property from a missing one (a condition rule reads both as None)."""

    columns: tuple[Column, ...]
    null_is_absent: bool


def plan_reads(rule: Rule, resource_type: str) -> SearchPlan | str:
    """The plan for ``rule`` on ``resource_type``, or why the search cannot serve it."""
    reads = rule.reads
    if reads is None:
        return "the rule does not declare its reads"
    known = property_columns(resource_type)
    if known is None:
        return f"no property file is known for {resource_type}"
    columns = []
    for path in reads:
        steps = compile_path(path)._steps
        if steps is None or not all(isinstance(s, str) and _IDENTIFIER.match(s) for s in steps):
            return f"{path} is not a plain path of keys"
        name = ".".join(str(s) for s in steps)
        kind = known.get(name)
        if kind is None or name in METADATA_COLUMNS:
            return f"{path} is not a searchable property of {resource_type}"
        if kind not in _ACCEPTED:  # dates: the search's text form is not documented
            return f"{path} is a {kind} property, whose searched form is unverified"
        columns.append(Column(path, name, tuple(str(s) for s in steps), kind))
    names = {c.steps for c in columns}
    for column in columns:  # $.A and $.A.B: a value cannot be both a leaf and an object
        if any(column.steps[:n] in names for n in range(1, len(column.steps))):
            return f"{column.path} lies under another read"
    return SearchPlan(tuple(dict.fromkeys(columns)), rule.condition is not None)


def declared_reads(reads: Any) -> tuple[str, ...]:
    """A rule's ``reads=``, checked: a list of JSONPaths starting with ``$`` (PathError or
    SearchError otherwise), without duplicates."""
    if isinstance(reads, str) or not isinstance(reads, (list, tuple)):
        raise SearchError(f'reads= is a list of JSONPaths, e.g. ["$.ImageId"], got {reads!r}')
    for path in reads:
        if not isinstance(path, str) or not path.strip().startswith("$"):
            raise SearchError(f"reads= names JSONPaths starting with '$', got {path!r}")
        compile_path(path)  # PathError naming the path
    return tuple(dict.fromkeys(path.strip() for path in reads))


def literal(value: str) -> str:
    """``value`` as an SQL string literal. How a quote is escaped is not documented, so a value
    with one (or a backslash) cannot be expressed: SearchError, and the caller falls back."""
    if "'" in value or "\\" in value:
        raise SearchError(f"{value!r} cannot be written as an advanced-search literal")
    return f"'{value}'"


class SearchError(RulekitError):
    """An SQL cannot be built, or an answer cannot be read; the sweep falls back."""


def count_sql(resource_type: str) -> str:
    """Resources of ``resource_type`` per region: the sweep's partition plan (one row each)."""
    return (
        f"SELECT RegionId, COUNT(1) WHERE ResourceType = {literal(resource_type)} GROUP BY RegionId"
    )


def select_sql(plan: SearchPlan, resource_type: str, region: str, after: str | None) -> str:
    """One keyset page of a region: the resources with an id above ``after`` in id order. Each
    answer holds at most 1,000 rows; the next page starts after the largest id seen."""
    names = list(dict.fromkeys([*LISTED_COLUMNS, *(c.name for c in plan.columns)]))
    where = [f"ResourceType = {literal(resource_type)}", f"RegionId = {literal(region)}"]
    if after is not None:
        where.append(f"ResourceId > {literal(after)}")
    return f"SELECT {', '.join(names)} WHERE {' AND '.join(where)} ORDER BY ResourceId"


def answer_rows(body: Mapping[str, Any], action: str) -> list[dict[str, Any]]:
    """The rows of an answer as ``{column: value}``. A row may arrive as a JSON string (the API
    reference's example shows it so, research16.md §1.1). Raises SearchError when unreadable."""
    results = body.get("QueryResults")
    listing = results.get("QueryResultList") if isinstance(results, dict) else None
    if not isinstance(listing, dict):
        raise SearchError(f"{action} returned no QueryResults.QueryResultList")
    columns, values = listing.get("Columns"), listing.get("Values") or []
    if not isinstance(columns, list) or not isinstance(values, list):
        raise SearchError(f"{action} returned Columns or Values that are not lists")
    rows = []
    for value in values:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise SearchError(f"{action} returned a row that is not JSON") from None
        if not isinstance(value, list) or len(value) != len(columns):
            raise SearchError(f"{action} returned a row that does not match its Columns")
        rows.append(dict(zip(columns, value, strict=True)))
    return rows


def _decoded(value: Any, column: Column) -> Any:
    """``value`` as the configuration holds it; raises ValueError when that is uncertain."""
    if isinstance(value, (list, dict)):  # a list is also what a path through an array gives
        raise ValueError("an array or object")
    if isinstance(value, bool) != (column.kind == "boolean"):
        raise ValueError("a boolean mismatch")
    if not isinstance(value, _ACCEPTED[column.kind]):
        raise ValueError(f"a {type(value).__name__} for a {column.kind} property")
    if isinstance(value, float) and value.is_integer():  # 2.0: recorded as 2 or as 2.0?
        raise ValueError("an integral float")
    return value


def searched_configuration(row: Mapping[str, Any], plan: SearchPlan) -> dict[str, Any] | None:
    """The configuration the rule's reads see, nested as GetDiscoveredResource's would be; None
    when a value cannot be mapped back with certainty (the resource is fetched instead)."""
    # Every read null: a resource without any of the properties, or one whose configuration
    # the index could not read (GetDiscoveredResource would say which): fetch it.
    if plan.columns and all(row.get(column.name) is None for column in plan.columns):
        return None
    root: dict[str, Any] = {}
    for column in plan.columns:
        if column.name not in row:
            return None
        value = row[column.name]
        if value is None:
            if plan.null_is_absent:
                continue
            return None
        try:
            value = _decoded(value, column)
        except ValueError:
            return None
        node = root
        for step in column.steps[:-1]:
            node = node.setdefault(step, {})
        node[column.steps[-1]] = value
    return root


def searched_resource(
    row: Mapping[str, Any], plan: SearchPlan, resource_type: str
) -> SearchedResource | None:
    """The resource of one answer row, its configuration limited to the declared reads; None when
    a value cannot be mapped back with certainty."""
    configuration = searched_configuration(row, plan)
    rid, region = row.get("ResourceId"), row.get("RegionId")
    if configuration is None or not isinstance(rid, str) or not isinstance(region, str):
        return None
    account, name = row.get("AccountId"), row.get("ResourceName")
    resource = SearchedResource(
        id=rid,
        type=resource_type,
        region=region,
        account_id="" if account in (None, "") else str(account),
        name=name if isinstance(name, str) and name else None,
    )
    declared: dict[tuple[str, ...], set[str]] = {}
    for column in plan.columns:
        for n in range(len(column.steps)):
            declared.setdefault(column.steps[:n], set()).add(column.steps[n])
    resource.configuration = _view(configuration, (), declared, resource)
    return resource


class SearchedResource(Resource):
    """A resource whose configuration holds only the rule's declared reads. Reading anything
    else (another key, every key, the tags) raises :class:`UndeclaredRead` and marks the
    resource, so a rule that swallows the exception is still run again on the fetched
    configuration."""

    __slots__ = ("undeclared",)

    def __init__(self, **fields: Any) -> None:
        super().__init__(**fields)
        self.undeclared: str | None = None

    def refuse(self, what: str) -> UndeclaredRead:
        self.undeclared = self.undeclared or what
        return UndeclaredRead(f"{self.type} {self.id}: {what} is not among the rule's reads")

    @property
    def tags(self) -> Any:
        raise self.refuse("the tags")

    @tags.setter
    def tags(self, value: Any) -> None:
        self._tags, self._raw_tags = value, None


def _view(
    node: dict[str, Any],
    at: tuple[str, ...],
    declared: Mapping[tuple[str, ...], set[str]],
    owner: SearchedResource,
) -> _DeclaredView:
    view = _DeclaredView(owner, at, frozenset(declared.get(at, ())))
    for key, value in node.items():
        dict.__setitem__(
            view,
            key,
            _view(value, (*at, key), declared, owner) if isinstance(value, dict) else value,
        )
    return view


class _DeclaredView(dict):  # type: ignore[type-arg]
    """One object level of a searched configuration: its declared keys read as usual (a missing
    one is a property the resource lacks); any other read is refused."""

    __slots__ = ("_at", "_known", "_owner")

    def __init__(self, owner: SearchedResource, at: tuple[str, ...], known: frozenset[str]):
        super().__init__()
        self._owner, self._at, self._known = owner, at, known

    def _check(self, key: Any) -> None:
        if key not in self._known:
            raise self._owner.refuse("$." + ".".join((*self._at, str(key))))

    def __getitem__(self, key: Any) -> Any:
        self._check(key)
        return dict.__getitem__(self, key)

    def __contains__(self, key: object) -> bool:
        self._check(key)
        return dict.__contains__(self, key)

    def get(self, key: Any, default: Any = None) -> Any:
        self._check(key)
        return dict.get(self, key, default)

    def _whole(self, *args: Any) -> Any:
        raise self._owner.refuse("the whole of $" + "".join("." + k for k in self._at))

    keys = values = items = __iter__ = __len__ = __reversed__ = copy = _whole
