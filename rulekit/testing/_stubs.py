"""API stub files: recorded responses of the cloud APIs a rule calls, in the format of a
fixture's ``api:`` key, for ``rulekit invoke --api`` and ``rulekit emulator --api``.

```yaml
Ecs:
  DescribeImages: {Images: {Image: [{ImageId: m-1, ImageOwnerAlias: system}]}}
```

A fixture file works as a stub file too (its top-level ``api:`` is used).

Example::

    stubs = read_stubs(Path("stubs.yaml"))
    for product, actions in stubs.items():
        for action, response in actions.items():
            emulator.respond(product, action, response)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._errors import ConfigurationError

__all__ = ["check_stubs", "read_stubs"]


def check_stubs(data: Any, where: str) -> dict[str, dict[str, Any]]:
    """``data`` as {product: {action: response or list of responses}}, or a ConfigurationError
    naming ``where`` and the offending entry."""
    if not isinstance(data, dict):
        raise ConfigurationError(
            f"{where}: API stubs map a product to its actions, e.g. "
            "{Ecs: {DescribeImages: {...}}}"
        )
    for product, actions in data.items():
        if not isinstance(actions, dict):
            raise ConfigurationError(
                f"{where}: {product}: map each action to its recorded response, e.g. "
                f"{{{product}: {{DescribeX: {{...}}}}}}"
            )
        for action, response in actions.items():
            responses = response if isinstance(response, list) else [response]
            if not responses or not all(isinstance(r, dict) for r in responses):
                raise ConfigurationError(
                    f"{where}: {product}.{action}: a response is a JSON object "
                    "(or a list of them, served in turn)"
                )
    return data


def read_stubs(path: Path) -> dict[str, dict[str, Any]]:
    """The stubs in a YAML or JSON file (a fixture file's ``api:`` key, or the whole file)."""
    from ._fixtures import _read

    try:
        data = _read(path)
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path}: {exc.strerror}") from None
    if isinstance(data, dict) and isinstance(data.get("api"), dict) and "cases" in data:
        data = data["api"]
    return check_stubs(data, str(path))
