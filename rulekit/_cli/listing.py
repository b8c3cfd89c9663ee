"""``rulekit list``: every loaded rule, with its pack, resource types, triggers and parameters."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .common import load_plugins, parameters_of

__all__ = ["add_parser"]


def _row(rule: Any) -> dict[str, Any]:
    return {
        "name": rule.name,
        "pack": rule.pack,
        "kind": "condition" if rule.condition is not None else "python",
        "resourceTypes": list(rule.resource_types),
        "triggers": list(rule.triggers),
        "frequency": rule.frequency,
        "riskLevel": rule.risk_level,
        "parameters": parameters_of(rule),
        "description": rule.description,
        "location": rule.location,
    }


def _params_text(params: list[dict[str, Any]]) -> str:
    parts = []
    for p in params:
        extra = "required" if p["required"] else f"default {p['default']!r}"
        parts.append(f"{p['key']} ({p['type']}, {extra})")
    return "; ".join(parts) or "-"


def run(args: argparse.Namespace) -> int:
    plugins = load_plugins(args)
    rows = [_row(rule) for rule in sorted(plugins.rules, key=lambda r: (r.pack or "", r.name))]
    if args.format == "json":
        packs = [
            {"name": p.name, "origin": p.origin, "rules": p.rules} for p in plugins.packs.values()
        ]
        print(json.dumps({"packs": packs, "rules": rows}, indent=2, default=str))
        return 0
    if not rows:
        print("no rules loaded: install a rule pack, set RULEKIT_RULES, or pass -p MODULE")
        return 0
    width = max(len(r["name"]) for r in rows)
    for row in rows:
        print(
            f"{row['name']:<{width}}  pack={row['pack']}  {row['kind']}  "
            f"types={','.join(row['resourceTypes'])}  "
            f"triggers={','.join(row['triggers'])}"
            + (f" ({row['frequency']})" if row["frequency"] else "")
            + f"  params: {_params_text(row['parameters'])}"
        )
    loaded = ", ".join(f"{p.name} ({len(p.rules)}; {p.origin})" for p in plugins.packs.values())
    print(f"{len(rows)} rule(s) from {len(plugins.packs)} pack(s): {loaded}")
    return 0


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("list", help="list the loaded rules and where they come from")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(run=run)
