"""JSONPath into a resource's configuration, compiled once per path string.

Plain paths (``$.VpcAttributes.VpcId``, ``$.Disks[0].Size``) take a small built-in walker, so a
rule that uses only those never imports jsonpath-ng; anything richer (wildcards, filters,
recursive descent) is compiled by jsonpath-ng's extended parser. Both are cached, so a path
is parsed once per process, not once per evaluation.

Example::

    >>> path = compile_path("$.Tags.Tag[*].TagKey")
    >>> path.find({"Tags": {"Tag": [{"TagKey": "env"}, {"TagKey": "team"}]}})
    ['env', 'team']
    >>> path.singular
    False
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from ._errors import RulekitError

__all__ = ["JsonPath", "PathError", "compile_path"]

_SEGMENT = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\['([^'\\]+)'\]|\[\"([^\"\\]+)\"\]")


class PathError(RulekitError, KeyError):
    """A JSONPath does not parse, or a singular path matched nothing."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


_MISSING = object()


class JsonPath:
    """A compiled JSONPath. ``find`` returns every match; ``singular`` is False for paths that
    can match several values (wildcards, slices, filters, recursive descent)."""

    __slots__ = ("_compiled", "_steps", "singular", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._steps = _plain_steps(text)
        self._compiled: Any = None
        if self._steps is None:
            self._compiled = _parse_rich(text)
            self.singular = False
        else:
            self.singular = True

    def find(self, data: Any) -> list[Any]:
        """Every value the path matches in ``data`` (an empty list when nothing matches)."""
        if self._steps is None:
            return [match.value for match in self._compiled.find(data)]
        node = self.value(data, _MISSING)
        return [] if node is _MISSING else [node]

    def value(self, data: Any, default: Any = None) -> Any:
        """The one value a singular path names in ``data``, or ``default`` (no list built: the
        common read of a rule).

        Example::

            >>> compile_path("$.VpcAttributes.VpcId").value({"VpcAttributes": {"VpcId": "v-1"}})
            'v-1'
        """
        steps = self._steps
        if steps is None:
            raise PathError(f"{self.text} can match several values; use find()")
        node = data
        for step in steps:
            if step.__class__ is int:
                if not isinstance(node, list) or step >= len(node):
                    return default
            elif not isinstance(node, dict) or step not in node:
                return default
            node = node[step]
        return node

    def __repr__(self) -> str:
        return f"JsonPath({self.text!r})"


def _plain_steps(text: str) -> tuple[str | int, ...] | None:
    if not text.startswith("$"):
        return None
    steps: list[str | int] = []
    pos = 1
    while pos < len(text):
        m = _SEGMENT.match(text, pos)
        if m is None:
            return None
        name, index, quoted1, quoted2 = m.groups()
        steps.append(int(index) if index is not None else (name or quoted1 or quoted2))
        pos = m.end()
    return tuple(steps)


def _parse_rich(text: str) -> Any:
    from jsonpath_ng.ext.parser import parse  # lazy: only rules with rich paths pay for the import

    try:
        return parse(text)
    except Exception as exc:  # jsonpath-ng raises several unrelated exception types
        raise PathError(f"invalid JSONPath {text!r}: {exc}") from None


@lru_cache(maxsize=4096)
def compile_path(text: str) -> JsonPath:
    """Compile ``text`` (cached). A path without a leading ``$`` is taken as ``$.`` + path.

    Raises :class:`PathError` naming the path when it does not parse.
    """
    if not isinstance(text, str) or not text.strip():
        raise PathError(f"a JSONPath must be a non-empty string, got {text!r}")
    text = text.strip()
    if not text.startswith("$"):
        text = "$." + text
    return JsonPath(text)
