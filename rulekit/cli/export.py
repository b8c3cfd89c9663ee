"""``rulekit export --format s-yaml|terraform|ros [-o DIR]``: deployment templates written from
the loaded rules' metadata."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import UsageError
from .common import load_plugins

__all__ = ["add_parser"]


def run(args: argparse.Namespace) -> int:
    from ..deploy import FORMATS, Deployment, render

    plugins = load_plugins(args)
    rules = list(plugins.rules)
    if args.rule:
        wanted = set(args.rule)
        rules = [r for r in rules if r.name in wanted]
        missing = wanted - {r.name for r in rules}
        if missing:
            from ..errors import RuleNotFoundError

            raise RuleNotFoundError(f"no rule named {sorted(missing)}")
    packs = sorted(
        {
            r.pack
            for r in rules
            if r.pack and r.pack in plugins.packs and "entry point" in plugins.packs[r.pack].origin
        }
    )
    deployment = Deployment.from_rules(
        rules,
        packs=packs,
        condition_rules=args.condition_rules,
        function_name=args.function_name,
        runtime=f"python{args.python}",
        region=args.region,
        config_region=args.config_region,
        code=f"rulekit-fc-py{args.python.replace('.', '')}.zip",
    )
    assert args.format in FORMATS
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise UsageError(f"-o {out} is a file; pass a folder for the templates")
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, text in render(deployment, args.format).items():
            (out / name).write_text(text, encoding="utf-8")
            print(f"wrote {out / name}")
    except OSError as exc:
        raise UsageError(f"cannot write to {out}: {exc.strerror or exc}") from None
    print(
        f"{len(deployment.function_rules)} function rule(s), "
        f"{len(deployment.condition_rules)} platform condition rule(s); role actions: "
        + ", ".join(deployment.actions)
    )
    return 0


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("export", help="write deployment templates from rule metadata")
    parser.add_argument("--format", required=True, choices=("s-yaml", "terraform", "ros"))
    parser.add_argument("-o", "--output", default="deploy", help="output folder (default: deploy)")
    parser.add_argument("--rule", action="append", help="only this rule (repeatable)")
    parser.add_argument("--function-name", default="rulekit")
    parser.add_argument("--python", default="3.10", choices=("3.10", "3.12"))
    parser.add_argument("--region", default="cn-hangzhou", help="the function's region")
    parser.add_argument(
        "--config-region",
        default="cn-shanghai",
        choices=("cn-shanghai", "ap-southeast-1"),
        help="where the Config rules are managed",
    )
    parser.add_argument(
        "--condition-rules",
        choices=("function", "platform"),
        default="function",
        help="platform: export condition-only rules as platform condition rules",
    )
    parser.set_defaults(run=run)
