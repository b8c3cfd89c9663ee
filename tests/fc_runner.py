"""Run an unzipped FC package in an isolated interpreter, as Function Compute would: only the
package folder on the path (``-I -S``), an FC Python 3.10-style context, the given environment."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from rulekit.testing import TEST_CREDENTIALS

_RUNNER = r"""
import json, sys, types
sys.path.insert(0, sys.argv[1])
import index
context = types.SimpleNamespace(
    request_id="r-1", region="cn-hangzhou", account_id="1",
    function=types.SimpleNamespace(name="rulekit", handler="index.handler", memory=512,
                                   timeout=600),
    credentials=types.SimpleNamespace(access_key_id=sys.argv[2], access_key_secret=sys.argv[3],
                                      security_token=sys.argv[4]))
print(json.dumps(index.handler(sys.stdin.buffer.read(), context)))
print(json.dumps(sorted(sys.modules)))
"""


def invoke_package(
    python: str, code: Path, event: dict[str, Any], env: dict[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """The handler's summary and the modules the invocation imported."""
    done = subprocess.run(
        [
            python,
            "-I",
            "-S",
            "-c",
            _RUNNER,
            str(code),
            TEST_CREDENTIALS.access_key_id,
            TEST_CREDENTIALS.access_key_secret,
            TEST_CREDENTIALS.security_token or "",
        ],
        input=json.dumps(event).encode(),
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    summary, modules = done.stdout.decode().strip().splitlines()[-2:]
    return json.loads(summary), json.loads(modules)
