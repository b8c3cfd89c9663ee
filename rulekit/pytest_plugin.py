"""pytest plugin (entry point ``pytest11``): collects rulekit fixture files as test items.

Every ``*.rulekit.yaml`` / ``*.rulekit.yml`` / ``*.rulekit.json`` file pytest meets becomes one
item per case (``file::rule::case``), run exactly as ``rulekit test`` runs it; a file that is
wrong as a whole (no cases, unknown rule, unknown keys) becomes one failing item. Rules come from
installed packs, ``RULEKIT_RULES`` and the fixtures' ``module`` keys.

Example::

    $ pytest plugins/            # runs the packs' fixture files along with their unit tests
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .testing._fixtures import Case, FileProblem
    from .testing._session import Session

__all__ = ["pytest_collect_file"]

_SESSION = pytest.StashKey["Session"]()


def _session(config: pytest.Config) -> Session:
    session = config.stash.get(_SESSION, None)
    if session is None:
        from ._plugins import Plugins
        from .testing._session import Session

        session = Session(Plugins.from_env(os.environ))
        config.stash[_SESSION] = session
        config.add_cleanup(session.close)
    return session


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    from .testing._fixtures import is_fixture_file

    if is_fixture_file(file_path):
        return RulekitFile.from_parent(parent, path=file_path)
    return None


class CaseFailed(Exception):
    """A fixture case did not meet its expectation."""


class RulekitFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        from .testing._fixtures import add_import_paths, load_file, modules_of

        cases, problems = load_file(self.path)
        session = _session(self.config)
        for module, file in modules_of([self.path]):
            add_import_paths(file)
            session.plugins.add_module(module, origin=f"fixture {file}")
        for problem in problems:
            yield RulekitProblem.from_parent(self, name="(fixture)", problem=problem)
        if cases and cases[0].rule not in session.plugins.rules:  # one failure, not one per case
            from .testing._fixtures import unknown_rule

            loaded = [r.name for r in session.plugins.rules]
            problem = unknown_rule(self.path, cases[0].rule, loaded)
            yield RulekitProblem.from_parent(self, name="(fixture)", problem=problem)
            return
        for case in cases:
            yield RulekitCase.from_parent(self, name=f"{case.rule}::{case.name}", case=case)


class RulekitCase(pytest.Item):
    def __init__(self, *, case: Case, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case

    def runtest(self) -> None:
        from .testing._fixtures import run_case

        result = run_case(self.case, _session(self.config))
        if result.status == "skipped":
            pytest.skip(result.message)
        if result.status == "failed":
            raise CaseFailed(result.message)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CaseFailed):
            return f"{self.case.id}\n  {excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.case.rule}::{self.case.name}"


class RulekitProblem(pytest.Item):
    def __init__(self, *, problem: FileProblem, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.problem = problem

    def runtest(self) -> None:
        raise CaseFailed(self.problem.message)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return self.problem.located

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, "(fixture)"
