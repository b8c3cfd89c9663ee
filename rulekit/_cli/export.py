"""``rulekit export [PACK...] --format terraform|ros|s-yaml|api [-o DIR]``: deployment templates
written from the rules' metadata, for exactly the packs ``rulekit package`` puts in the zip (the
same PACK arguments, the same default: every installed pack). When the zip is there (``-o``
folder, or ``--package``), a pack it lacks is an error now rather than a PluginError on every
invocation."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import UsageError
from .common import check_rules

__all__ = ["add_parser"]


def run(args: argparse.Namespace) -> int:
    from .._deploy import FORMATS, Deployment, render
    from .._deploy.packs import check_package, load_plugins, resolve_packs
    from .._errors import RuleNotFoundError

    if args.plugin:
        raise UsageError(
            "export takes packs as arguments, as rulekit package does (a pack folder, an "
            f"entry-point or a distribution name); rules loaded with -p {args.plugin[0]} would "
            "not be in the code package"
        )
    packs = resolve_packs(args.packs)
    plugins = load_plugins(packs)
    check_rules(plugins)
    rules = list(plugins.rules)
    if args.rule:
        wanted = set(args.rule)
        rules = [r for r in rules if r.name in wanted]
        missing = wanted - {r.name for r in rules}
        if missing:
            raise RuleNotFoundError(f"no rule named {sorted(missing)} in the packs exported")
    code = f"rulekit-fc-py{args.python.replace('.', '')}.zip"
    deployment = Deployment.from_rules(
        rules,
        packs=sorted(n for p in packs for n in p.entry_point_names),
        condition_rules=args.condition_rules,
        function_name=args.function_name,
        runtime=f"python{args.python}",
        region=args.region,
        config_region=args.config_region,
        code=code,
        aggregator_id=args.aggregator_id,
        compliance_pack=args.compliance_pack,
        member_role=args.member_role,
        continue_sweeps=args.continue_sweeps,
    )
    assert args.format in FORMATS
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise UsageError(f"-o {out} is a file; pass a folder for the templates")
    zip_path = Path(args.package) if args.package else out / code
    if deployment.function_rules and args.format != "api":
        if zip_path.exists():
            check_package(zip_path, packs)
        elif args.package:
            raise UsageError(f"--package {args.package}: no such file")
    files = render(deployment, args.format)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (out / name).write_text(text, encoding="utf-8")
            print(f"wrote {out / name}")
    except OSError as exc:
        raise UsageError(f"cannot write to {out}: {exc.strerror or exc}") from None
    print(
        f"{len(deployment.function_rules)} function rule(s), "
        f"{len(deployment.condition_rules)} platform condition rule(s) from "
        f"{', '.join(p.dist_name for p in packs)}; role actions: " + ", ".join(deployment.actions)
    )
    if deployment.function_rules and args.format != "api":
        if zip_path.exists():
            print(f"checked: {zip_path} holds the packs the templates load")
        else:
            print(
                f"note: no code package at {zip_path} to check against; build it with: "
                f"rulekit package {' '.join(p.spec for p in packs)} --python {args.python} "
                f"-o {out}"
            )
    return 0


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("export", help="write deployment templates from rule metadata")
    parser.add_argument(
        "packs",
        nargs="*",
        metavar="PACK",
        help="pack folders or installed pack names, as for rulekit package (default: installed "
        "packs)",
    )
    parser.add_argument("--format", required=True, choices=("s-yaml", "terraform", "ros", "api"))
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
    parser.add_argument(
        "--aggregator-id",
        metavar="ca-...",
        help="export aggregate rules of this account group (the whole resource directory)",
    )
    parser.add_argument(
        "--compliance-pack", metavar="NAME", help="group the rules into a compliance pack"
    )
    parser.add_argument(
        "--member-role",
        default="ResourceDirectoryAccountAccessRole",
        help="the role rules assume in member accounts (default: %(default)s)",
    )
    parser.add_argument(
        "--continue-sweeps",
        action="store_true",
        help="a periodic sweep past the function's timeout continues in a new async invocation "
        "(sets RULEKIT_CONTINUE, grants fc:InvokeFunction on the function itself)",
    )
    parser.add_argument(
        "--package",
        metavar="ZIP",
        help="the code package to check the packs against (default: the -o folder's zip)",
    )
    parser.set_defaults(run=run)
