"""The traceback of a rule's own code, for reports (``rulekit test``, ``invoke``, ``run``, the
pytest plugin): the frames of rulekit (the dispatcher, ``Rule.evaluate``, ``resource.get``...)
are left out, so what is shown is the rule function, its helpers, and what they called.

Example::

    try:
        session.invoke(event, "my-rule")
    except EvaluationError as exc:
        print(rule_traceback(exc))
        # Traceback (the rule's code):
        #   File "rules.py", line 12, in my_rule
        #     return 1 / resource.get("$.Cpu")
        # ZeroDivisionError: division by zero
"""

from __future__ import annotations

import os
import traceback

from .._errors import EvaluationError
from .._redact import redact

__all__ = ["rule_traceback"]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def rule_traceback(error: BaseException) -> str | None:
    """The rule-code traceback behind an EvaluationError a rule raised, or None (another
    error, or no frame of the rule's code)."""
    cause = error.__cause__ if isinstance(error, EvaluationError) else None
    if cause is None or cause.__traceback__ is None:
        return None
    frames = [
        frame
        for frame in traceback.extract_tb(cause.__traceback__)
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR)
    ]
    if not frames:
        return None
    text = "Traceback (the rule's code):\n" + "".join(traceback.format_list(frames))
    text += "".join(traceback.format_exception_only(type(cause), cause))
    return redact(text.rstrip("\n"))
