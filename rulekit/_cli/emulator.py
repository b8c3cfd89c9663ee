"""``rulekit emulator [--inventory FILE]... [--api STUBS] [--port N]``: the loopback Config API
emulator in the foreground, so ``invoke``, ``run`` and ``fixture record`` can be tried from
another terminal without an account.

It checks every request's signature against the test credentials it prints, serves
GetDiscoveredResource / ListDiscoveredResources from the inventory (fixture files, JSON or
JSONL), answers stubbed API calls, accepts PutEvaluations, and prints one line per call.
Ctrl-C (or SIGTERM) stops it.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from . import EXIT_OK, UsageError

__all__ = ["add_parser", "environment"]


def environment(url: str, credentials: Any) -> dict[str, str]:
    """What a shell exports to point rulekit (and the SDK) at the emulator at ``url``."""
    env = {
        "RULEKIT_CONFIG_ENDPOINT": url,
        "RULEKIT_ENDPOINT": url,
        "ALIBABA_CLOUD_ACCESS_KEY_ID": credentials.access_key_id,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": credentials.access_key_secret,
    }
    if credentials.security_token:
        env["ALIBABA_CLOUD_SECURITY_TOKEN"] = credentials.security_token
    return env


def run(args: argparse.Namespace) -> int:
    from ..testing._emulator import Call, ConfigEmulator
    from ..testing._fixtures import is_fixture_file, modules_of
    from ..testing._inventory import read_inventory, seed
    from ..testing._stubs import read_stubs
    from .common import load_plugins

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port}: a TCP port is 0-65535 (0: any free port)")
    files = [Path(p) for p in args.inventory]
    for file in files:
        if not file.is_file():
            raise UsageError(f"--inventory {file}: no such file")
    fixtures = [f for f in files if is_fixture_file(f)]
    rule_types: Any = lambda rule: []  # noqa: E731 - no fixture, no rules needed
    if fixtures:
        from ..testing._fixtures import add_import_paths

        for _module, file in modules_of(fixtures):
            add_import_paths(file)
        plugins = load_plugins(args, [module for module, _ in modules_of(fixtures)])

        def rule_types(rule: str) -> list[str]:
            return list(plugins.rules[rule].resource_types) if rule in plugins.rules else []

    resources = [item for file in files for item in read_inventory(file, rule_types)]
    stubs = [read_stubs(Path(p)) for p in args.api]

    class Printing(ConfigEmulator):
        def record(self, call: Call) -> None:
            super().record(call)
            detail = f" {call.code}" if call.code else ""
            count = ""
            if call.action == "PutEvaluations" and call.ok:
                count = f" ({len(self.evaluations)} evaluation(s) received so far)"
            print(f"{call.status} {call.product} {call.action}{detail}{count}", flush=True)

    emulator = Printing()
    seed(emulator.store, resources)
    count = len(emulator.store)
    for stub in stubs:
        for product, actions in stub.items():
            for action, response in actions.items():
                emulator.respond(product, action, response)
    try:
        emulator.start(args.port)
    except OSError as exc:
        raise UsageError(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror}") from None
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        print(
            f"Config API emulator at {emulator.url} (loopback only; signature checking on)",
            flush=False,
        )
        sources = ", ".join(map(str, files)) or "no inventory"
        print(f"{count} resource(s) from {sources}")
        if stubs:
            print("API stubs from " + ", ".join(args.api))
        print("test credentials (accepted by this emulator only); in another terminal, run:")
        for key, value in environment(emulator.url, emulator.credentials).items():
            print(f"  export {key}={value}")
        print("then rulekit invoke / run / fixture record use it. Ctrl-C stops it.", flush=True)
        try:
            while not stop.wait(0.2):
                pass
        except KeyboardInterrupt:
            pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        emulator.stop()
    print(
        f"stopped: {len(emulator.calls)} call(s), {len(emulator.evaluations)} evaluation(s) "
        "received",
        file=sys.stderr,
    )
    return EXIT_OK


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "emulator", help="run the loopback Config API emulator in the foreground"
    )
    parser.add_argument(
        "--inventory",
        action="append",
        default=[],
        metavar="FILE",
        help="resources to serve: fixture files, JSON or JSONL (repeatable)",
    )
    parser.add_argument(
        "--api",
        action="append",
        default=[],
        metavar="STUBS",
        help="recorded API responses to serve (a fixture's api: format; repeatable)",
    )
    parser.add_argument(
        "--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)"
    )
    parser.set_defaults(run=run)
