"""Load-time checks of a Python rule's code, run by the CLI (``rulekit list``, ``rulekit test``)
rather than on the FC runtime path: every JSONPath string literal in the rule's function must
parse, so a typo fails when the pack loads, naming the rule and ``file:line``.

Example::

    check_rule(rule)     # RuleDefinitionError: rule 'x' (rules.py:12): invalid JSONPath '$.A['
"""

from __future__ import annotations

import ast
import inspect
import textwrap

from .errors import RuleDefinitionError, RulekitError
from .paths import compile_path
from .rule import Rule

__all__ = ["api_calls", "check_rule", "jsonpath_literals"]


def _tree(rule: Rule) -> tuple[ast.AST, int] | None:
    func = rule.func
    if func is None or rule.condition is not None:
        return None
    try:
        lines, first = inspect.getsourcelines(func)
    except (OSError, TypeError):
        return None
    return ast.parse(textwrap.dedent("".join(lines))), first


def api_calls(rule: Rule) -> tuple[set[tuple[str, str]], bool]:
    """The (product, action) pairs the rule's code passes literally to ``ctx.call`` /
    ``ctx.paginate``, and whether any call runs in a member account (``account_id=``): what
    its function's RAM role must allow."""
    parsed = _tree(rule)
    if parsed is None:
        return set(), False
    calls: set[tuple[str, str]] = set()
    member = False
    for node in ast.walk(parsed[0]):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("call", "paginate")
            and len(node.args) >= 2
        ):
            continue
        product, action = node.args[0], node.args[1]
        if (
            isinstance(product, ast.Constant)
            and isinstance(action, ast.Constant)
            and isinstance(product.value, str)
            and isinstance(action.value, str)
        ):
            calls.add((product.value, action.value))
            member = member or any(k.arg == "account_id" for k in node.keywords)
    return calls, member


def jsonpath_literals(rule: Rule) -> list[tuple[str, int]]:
    """(literal, line) for each string constant in the rule's function that starts with ``$.``
    or ``$[``. Empty when the source is not available (a rule built at run time)."""
    parsed = _tree(rule)
    if parsed is None:
        return []
    tree, first = parsed
    return [
        (node.value, first + node.lineno - 1)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.startswith(("$.", "$["))
    ]


def check_rule(rule: Rule) -> None:
    """Raise RuleDefinitionError for the first JSONPath literal of ``rule`` that does not parse."""
    file = rule.location.rsplit(":", 1)[0]
    for text, line in jsonpath_literals(rule):
        try:
            compile_path(text)
        except RulekitError as exc:
            raise RuleDefinitionError(f"rule {rule.name!r} ({file}:{line}): {exc}") from None
