"""Load-time checks of a Python rule's code, run by the CLI (``rulekit list``, ``rulekit test``)
rather than on the FC runtime path: every literal JSONPath the rule's function reads
(``resource["$.A"]``, ``resource.get("$.A")``, ``"$.A" in resource``) must parse, so a typo fails
when the pack loads, naming the rule and ``file:line``. Computed paths are checked at first use
(the rule's error then names the rule and the line).

Example::

    check_rule(rule)     # RuleDefinitionError: rule 'x' (rules.py:12): invalid JSONPath '$.A['
"""

from __future__ import annotations

import ast
import inspect
import textwrap

from ._errors import RuleDefinitionError, RulekitError
from ._paths import compile_path
from ._rule import Rule

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


_RESOURCE = "resource"  # the injectable name a rule's resource arrives under
_PATH_METHODS = ("get", "find")


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _is_resource(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == _RESOURCE


def jsonpath_literals(rule: Rule) -> list[tuple[str, int]]:
    """(path, line) for each *literal* JSONPath the rule's function reads: ``resource["..."]``,
    ``resource.get("...")``, ``resource.find("...")`` and ``"..." in resource``. Computed paths
    (``"$." + name``, f-strings) and other strings (annotation text such as ``"$.A is on"``)
    are not paths here: a computed path is checked when it is first used. Empty when the
    source is not available (a rule built at run time)."""
    parsed = _tree(rule)
    if parsed is None:
        return []
    tree, first = parsed
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        text: str | None = None
        if isinstance(node, ast.Subscript) and _is_resource(node.value):
            text = _literal(node.slice)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _PATH_METHODS
            and _is_resource(node.func.value)
            and node.args
        ):
            text = _literal(node.args[0])
        elif (
            isinstance(node, ast.Compare)
            and _is_resource(node.comparators[-1])
            and isinstance(node.ops[-1], (ast.In, ast.NotIn))
        ):
            text = _literal(node.left if len(node.ops) == 1 else node.comparators[-2])
        if text is not None:
            found.append((text, first + getattr(node, "lineno", 1) - 1))
    return sorted(found, key=lambda item: item[1])


def check_rule(rule: Rule) -> None:
    """Raise RuleDefinitionError for the first JSONPath literal of ``rule`` that does not parse."""
    file = rule.location.rsplit(":", 1)[0]
    for text, line in jsonpath_literals(rule):
        try:
            compile_path(text)
        except RulekitError as exc:
            raise RuleDefinitionError(f"rule {rule.name!r} ({file}:{line}): {exc}") from None
