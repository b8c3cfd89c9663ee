"""The ``rulekit`` command line. Not imported on the FC runtime path.

Commands: ``list``, ``test``, ``invoke``, ``new``, ``demo`` (docs/cli.md). Exit codes: 0 success,
1 a rule, case or invocation failed, 2 usage or collection error, or bad input (an event,
parameters or a RULEKIT_* setting that cannot be used).

Example::

    $ rulekit list
    $ rulekit test plugins/ --junit-xml report.xml
    $ rulekit invoke event.json --rule ecs-instance-image-check --params imageIds=m-1
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .._errors import (
    ConfigurationError,
    EventError,
    InventoryError,
    ParamsError,
    PluginError,
    RulekitError,
    RuleNotFoundError,
    ScopeError,
)

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_PIPE_CLOSED = 141  # 128 + SIGPIPE, as `yes | head` reports it


class UsageError(RulekitError):
    """Bad arguments or paths: exit 2."""


# Errors about input the command was given (an event file, --params, RULEKIT_* variables and
# other configuration, pack or rule names, an inventory): exit 2 like a usage error, with the
# error's type named. A rule or an API that fails on valid input exits 1.
_BAD_INPUT: tuple[type[RulekitError], ...] = (
    EventError,
    ParamsError,
    ScopeError,
    ConfigurationError,  # SettingError, export refusals; not PluginError (a broken pack)
    InventoryError,
    RuleNotFoundError,
)


def _parser() -> argparse.ArgumentParser:
    from . import demo, emulator, export, fixture, invoke, listing, package, run, scaffold, testcmd

    parser = argparse.ArgumentParser(
        prog="rulekit", description="Alibaba Cloud Config custom rules as Python functions."
    )
    parser.add_argument(
        "-p",
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE",
        help="load rules and hooks from MODULE (repeatable)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (
        listing,
        testcmd,
        invoke,
        run,
        fixture,
        emulator,
        scaffold,
        package,
        export,
        demo,
    ):
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rulekit`` console script; returns the exit code."""
    # Like pytest: modules in the current folder can be named with -p or in fixtures.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
        sys.stdout.flush()  # a reader that stopped reading (| head) shows here, not at exit
        return code
    except BrokenPipeError:
        # Not an error of the command's: say nothing, and exit as a Unix tool killed by SIGPIPE
        # would. Output still buffered must not fail again at interpreter exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE_CLOSED
    except UsageError as exc:
        print(f"rulekit {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except RulekitError as exc:
        print(f"rulekit {args.command}: {type(exc).__name__}: {exc}", file=sys.stderr)
        if isinstance(exc, _BAD_INPUT) and not isinstance(exc, PluginError):
            return EXIT_USAGE  # the input, settings or names given: the caller's to fix
        from ..testing._tracebacks import rule_traceback

        shown = rule_traceback(exc)  # a rule raised: its own code's frames, not rulekit's
        if shown:
            print(shown, file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:  # a path given that a command did not check itself: one line
        where = f": {exc.filename}" if exc.filename else ""
        print(f"rulekit {args.command}: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:  # pragma: no cover - interactive
        print(f"rulekit {args.command}: interrupted", file=sys.stderr)
        return 130
