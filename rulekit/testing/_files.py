"""Reading files a user names (fixtures, event files) without trusting their size or shape.

A path may point at ``/dev/zero``, a multi-gigabyte log or a YAML "billion laughs" document:
each is rejected with a :class:`~rulekit._errors.RulekitError` naming the file, in well under a
second, instead of reading or expanding without end.

Example::

    data = read_limited(Path("event.json"), MAX_EVENT_BYTES, UsageError)
    tree = load_yaml(text, Path("cases.rulekit.yaml"), CollectionError)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._errors import RulekitError

__all__ = [
    "MAX_EVENT_BYTES",
    "MAX_FIXTURE_BYTES",
    "MAX_YAML_NODES",
    "load_yaml",
    "read_limited",
    "text_of",
]

#: rulekit's bounds, not platform figures: Cloud Config leaves a configuration over ~100 KB
#: out of the event (OVERSIZE), so real events are far smaller than this.
MAX_EVENT_BYTES = 16 * 1024 * 1024
MAX_FIXTURE_BYTES = 8 * 1024 * 1024
#: Values a YAML document may hold once its aliases are expanded (a generous fixture with a
#: 10,000-tag resource holds ~30,000).
MAX_YAML_NODES = 500_000


def read_limited(path: Path, limit: int, error: type[RulekitError]) -> bytes:
    """The bytes of ``path``, or ``error`` when it cannot be read or holds more than ``limit``
    (read up to one byte past it, so a device or a growing file never reads on)."""
    try:
        with path.open("rb") as stream:
            data = stream.read(limit + 1)
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise error(f"{path} is larger than {limit // (1024 * 1024)} MB; not read")
    return data


def text_of(data: bytes, path: Path, error: type[RulekitError]) -> str:
    """``data`` as UTF-8 text, or ``error`` naming the first byte that is not."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{path} is not UTF-8 text (byte {exc.start})") from None


def load_yaml(text: str, path: Path, error: type[RulekitError]) -> Any:
    """Parse one YAML document with the safe loader, refusing one whose aliases expand to more
    than :data:`MAX_YAML_NODES` values (counted on the node graph, before anything is built)
    or that nests deeper than Python recurses."""
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        size = _expanded_size(node, {}, set())
        if size > MAX_YAML_NODES:
            raise error(
                f"{path}: the YAML expands to more than {MAX_YAML_NODES:,} values "
                "(aliases repeating aliases); not loaded"
            )
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:  # file:line:col: what, as editors and compilers say it
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = exc.problem or exc.context or "not valid YAML"
        context = f" ({exc.context})" if exc.context and exc.problem else ""
        raise error(" ".join(f"{where}: {problem}{context}".split())) from None
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise error(f"{path}: the YAML is nested too deeply to load") from None
    finally:
        loader.dispose()


def _expanded_size(node: Any, sizes: dict[int, int], open_nodes: set[int]) -> int:
    """How many values ``node`` stands for once every alias is expanded; an alias is a shared
    node in the graph, so each node is sized once. A node inside itself counts as unbounded."""
    key = id(node)
    known = sizes.get(key)
    if known is not None:
        return known
    if key in open_nodes:
        return MAX_YAML_NODES + 1
    open_nodes.add(key)
    total = 1
    value = node.value
    if isinstance(value, list):
        for item in value:
            parts = item if isinstance(item, tuple) else (item,)  # mapping entries are pairs
            for part in parts:
                total += _expanded_size(part, sizes, open_nodes)
                if total > MAX_YAML_NODES:
                    break
    open_nodes.discard(key)
    sizes[key] = total
    return total
