"""``rulekit test [PATHS...]``: run fixture files; strict; text, JSON and JUnit XML reports.

The closing line is exactly ``N passed, M failed`` (``, K skipped`` when any were skipped).
Exit 0 when everything passed, 1 when a case failed (or coverage is required and missing),
2 for a usage or collection error.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import textwrap
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

from .._rule import Rule
from ..testing._coverage import new_report, record_case, rules_under_test
from ..testing._fixtures import (
    Case,
    CaseResult,
    CollectionError,
    FileProblem,
    add_import_paths,
    collect,
    modules_of,
    run_case,
    unknown_rule,
)
from ..testing._session import Session
from . import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError
from .common import load_plugins

__all__ = ["add_parser", "keyword_matcher"]

_TOKEN = re.compile(r"\s*(\(|\)|\band\b|\bor\b|\bnot\b|[^()\s]+)")


def keyword_matcher(expression: str) -> Any:
    """A predicate over a case's "file rule name" text, pytest ``-k`` style: words match as
    case-insensitive substrings, combined with ``and``, ``or``, ``not`` and parentheses."""
    tokens = [t for t in _TOKEN.findall(expression) if t.strip()]
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> str:
        nonlocal position
        token: str = tokens[position]
        position += 1
        return token

    def parse_or() -> Any:
        left = parse_and()
        while peek() == "or":
            take()
            right = parse_and()
            left = (lambda a, b: lambda text: a(text) or b(text))(left, right)
        return left

    def parse_and() -> Any:
        left = parse_not()
        while peek() == "and":
            take()
            right = parse_not()
            left = (lambda a, b: lambda text: a(text) and b(text))(left, right)
        return left

    def parse_not() -> Any:
        if peek() == "not":
            take()
            inner = parse_not()
            return lambda text: not inner(text)
        if peek() == "(":
            take()
            inner = parse_or()
            if peek() != ")":
                raise UsageError(f"-k {expression!r}: missing ')'")
            take()
            return inner
        if peek() is None or peek() in (")", "and", "or"):
            raise UsageError(f"-k {expression!r}: expected a word")
        word = take().lower()
        return lambda text: word in text

    matcher = parse_or()
    if peek() is not None:
        raise UsageError(f"-k {expression!r}: unexpected {peek()!r}")
    return lambda case: matcher(f"{case.file} {case.rule} {case.name}".lower())


def _junit(results: list[CaseResult], problems: list[FileProblem], path: Path) -> None:
    suite = ET.Element(
        "testsuite",
        name="rulekit",
        tests=str(len(results) + len(problems)),
        failures=str(sum(r.status == "failed" for r in results) + len(problems)),
        skipped=str(sum(r.status == "skipped" for r in results)),
    )
    seen: set[tuple[str, str]] = set()
    for result in results:
        classname, name = str(result.case.file), f"{result.case.rule}::{result.case.name}"
        key, n = (classname, name), 2
        while key in seen:  # distinct names, always
            key, n = (classname, f"{name} [{n}]"), n + 1
        seen.add(key)
        case = ET.SubElement(
            suite, "testcase", classname=key[0], name=key[1], time=f"{result.seconds:.6f}"
        )
        if result.status == "failed":
            failure = ET.SubElement(
                case,
                "failure",
                message=result.message.splitlines()[0] if result.message else "failed",
            )
            failure.text = result.message
        elif result.status == "skipped":
            ET.SubElement(case, "skipped", message=result.message)
    for problem in problems:
        case = ET.SubElement(suite, "testcase", classname=str(problem.file), name="(fixture)")
        ET.SubElement(case, "failure", message=problem.message).text = problem.message
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def run(args: argparse.Namespace) -> int:
    from .._settings import Settings

    # The RULEKIT_* settings the deployed handler would refuse are refused here too, so a local
    # run of the function's environment does not pass where FC would fail.
    Settings.from_env(os.environ)
    paths = [Path(p) for p in (args.paths or ["."])]
    try:
        cases, problems = collect(paths)
    except CollectionError as exc:
        raise UsageError(str(exc)) from None
    files = sorted({c.file for c in cases} | {p.file for p in problems})
    for _module, file in modules_of(files):
        add_import_paths(file)
    plugins = load_plugins(args, [module for module, _ in modules_of(files)])
    # A fixture for a rule that is not loaded: one problem for the file, not one per case.
    unknown = {c.file: c.rule for c in cases if c.rule not in plugins.rules}
    names = [r.name for r in plugins.rules]
    problems += [unknown_rule(file, rule, names) for file, rule in unknown.items()]
    cases = [c for c in cases if c.file not in unknown]
    # Coverage is about the packs and files under test, and -k filters what runs, not what is
    # covered: both are decided on every collected case.
    named = {c.rule for c in cases}
    under_test = rules_under_test(plugins.rules, named, paths, set(args.plugin))
    uncovered = sorted(r.name for r in under_test if r.name not in named)
    counts = Counter(c.rule for c in cases)
    if args.keyword:
        matches = keyword_matcher(args.keyword)
        cases = [c for c in cases if matches(c)]
    session = Session(plugins)
    try:
        results = [run_case(case, session) for case in cases]
        gaps = _coverage(under_test, counts, results, session) if args.require_coverage else {}
    finally:
        session.close()
    passed = sum(r.status == "passed" for r in results)
    failed = sum(r.status == "failed" for r in results) + len(problems)
    skipped = sum(r.status == "skipped" for r in results)
    if args.junit_xml:
        _junit(results, problems, Path(args.junit_xml))
    if args.format == "json":
        print(
            json.dumps(
                {
                    "passed": passed,
                    "failed": failed,
                    "skipped": skipped,
                    "cases": [
                        {
                            "id": r.case.id,
                            "file": str(r.case.file),
                            "rule": r.case.rule,
                            "name": r.case.name,
                            "status": r.status,
                            "message": r.message,
                        }
                        for r in results
                    ],
                    "problems": [{"file": str(p.file), "message": p.message} for p in problems],
                    "uncovered": uncovered,
                    **({"coverage": gaps} if args.require_coverage else {}),
                },
                indent=2,
            )
        )
    else:
        _text(results, problems, uncovered, args.verbose)
    if not cases and not problems:
        print(
            "no fixture files found under "
            + ", ".join(map(str, paths))
            + f" (files end in {', '.join(('.rulekit.yaml', '.rulekit.yml', '.rulekit.json'))})",
            file=sys.stderr,
        )
    if args.format != "json":
        if gaps:
            print(f"coverage required; missing for {len(gaps)} rule(s):")
            for name, missing in gaps.items():
                print(f"  {name}: " + "; ".join(missing))
        line = f"{passed} passed, {failed} failed"
        print(line + (f", {skipped} skipped" if skipped else ""))
    if problems:  # a fixture file rulekit cannot read as written: a collection error
        return EXIT_USAGE
    if failed or gaps:
        return EXIT_FAILED
    return EXIT_OK


def _coverage(
    rules: list[Rule], counts: Counter[str], results: list[CaseResult], session: Session
) -> dict[str, list[str]]:
    """What each rule under test lacks for --require-coverage (rules lacking nothing left out)."""
    reports = {rule.name: new_report(rule, counts[rule.name]) for rule in rules}
    for result in results:
        report = reports.get(result.case.rule)
        if report is None:
            continue
        report.ran = True
        if result.status != "passed":
            continue
        rule = session.rule(result.case.rule)
        resource = values = None
        if rule.condition is not None:
            resource, values = _as_the_rule_saw_it(result.case, rule, session)
        outcomes = [ev.compliance.value for ev in result.evaluations]
        record_case(report, rule, outcomes, resource, values)
    return {name: r.missing() for name, r in sorted(reports.items()) if r.missing()}


def _as_the_rule_saw_it(case: Case, rule: Rule, session: Session) -> tuple[Any, Any]:
    """The resource and parameter values a condition rule judged in ``case`` (None, None when
    they cannot be rebuilt: an OVERSIZE or periodic event, bad parameters)."""
    from .._errors import RulekitError
    from .._event import decode_event
    from ..testing._fixtures import case_event

    try:
        event = decode_event(case_event(case, session))
        parameters = case.params or event.rule_parameters or {}
        params = rule.configure(parameters).params
    except RulekitError:
        return None, None
    if event.resource is None or event.oversize:
        return None, None
    values = params.model_dump(by_alias=True) if hasattr(params, "model_dump") else params
    return event.resource, values


def _text(
    results: list[CaseResult], problems: list[FileProblem], uncovered: list[str], verbose: bool
) -> None:
    for problem in problems:
        print(f"FAILED {problem.located}")
    for result in results:
        if result.status == "failed":
            print(f"FAILED {_case_id(result.case)}\n{textwrap.indent(result.message, '  ')}")
        elif verbose:
            print(f"{result.status.upper()} {_case_id(result.case)}")
    if uncovered:
        print(f"rules without fixtures ({len(uncovered)}): {', '.join(uncovered)}")


def _case_id(case: Case) -> str:
    return f"{case.file}::{case.rule}::{case.name}"


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("test", help="run fixture files (*.rulekit.yaml / .json)")
    parser.add_argument("paths", nargs="*", help="fixture files or folders (default: .)")
    parser.add_argument(
        "-k",
        dest="keyword",
        metavar="EXPR",
        help="only cases whose file, rule or name match EXPR (words, and, or, not, parentheses)",
    )
    parser.add_argument("--junit-xml", metavar="PATH", help="write a JUnit XML report")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--require-coverage",
        action="store_true",
        help="fail unless every rule under test has a COMPLIANT and a NON_COMPLIANT case "
        "(and, for condition rules, every clause decided some case)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show passing cases too")
    parser.set_defaults(run=run)
