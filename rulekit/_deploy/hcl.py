"""A small HCL writer whose output is what ``terraform fmt`` leaves unchanged: two-space indents,
and the ``=`` of consecutive one-line attributes aligned one space after the longest name. A
multi-line value or a nested block ends such a run (and its own ``=`` is not padded), as
``terraform fmt`` does.

Example::

    >>> print(block('resource "x" "y"', {"name": "a", "memory_size": 512}))
    resource "x" "y" {
      name        = "a"
      memory_size = 512
    }
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["Block", "Blocks", "Expr", "block"]


class Expr(str):
    """A raw HCL expression (a reference or a function call), written without quotes."""


class Block(dict[str, Any]):
    """A nested block (``code { ... }``) rather than an attribute."""


class Blocks(list[Block]):
    """A nested block repeated once per item (``config_rule_ids { ... }`` twice)."""


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key) else json.dumps(key)


def _value(value: Any, indent: int) -> str:
    if isinstance(value, Expr):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        # Escape HCL template sequences so literal text is never interpolated.
        return json.dumps(value, ensure_ascii=False).replace("${", "$${").replace("%{", "%%{")
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v, indent) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        pad = "  " * indent
        lines = _aligned([(_key(str(k)), _value(v, indent + 1)) for k, v in value.items()], indent)
        return "{\n" + "\n".join(lines) + f"\n{pad}}}"
    raise TypeError(f"cannot write {type(value).__name__} as HCL")


def _aligned(attributes: list[tuple[str, str]], indent: int) -> list[str]:
    """``name = value`` lines at ``indent + 1``, one-line runs aligned like terraform fmt."""
    pad = "  " * (indent + 1)
    out: list[str] = []
    run: list[tuple[str, str]] = []

    def flush() -> None:
        width = max((len(k) for k, _ in run), default=0)
        out.extend(f"{pad}{k.ljust(width)} = {v}" for k, v in run)
        run.clear()

    for key, text in attributes:
        if "\n" in text:
            flush()
            out.append(f"{pad}{key} = {text}")
        else:
            run.append((key, text))
    flush()
    return out


def block(header: str, body: dict[str, Any], indent: int = 0) -> str:
    """``header { body }``; None values are left out, Block / Blocks become nested blocks."""
    pad = "  " * indent
    lines = [f"{pad}{header} {{"]
    pending: list[tuple[str, str]] = []
    for key, value in body.items():
        if value is None:
            continue
        nested = [value] if isinstance(value, Block) else value if isinstance(value, Blocks) else []
        if isinstance(value, (Block, Blocks)):
            lines += _aligned(pending, indent)
            pending = []
            lines += [block(key, item, indent + 1) for item in nested]
        else:
            pending.append((key, _value(value, indent + 1)))
    lines += _aligned(pending, indent)
    lines.append(f"{pad}}}")
    return "\n".join(lines)
