"""Where each Alibaba Cloud product's API lives, and how a deployment or a test overrides it.

Order: env ``RULEKIT_<PRODUCT>_ENDPOINT`` (e.g. ``RULEKIT_CONFIG_ENDPOINT``), then
``RULEKIT_ENDPOINT`` (every product), then the product's public endpoint for the region.
An override may be a host (``config-vpc.cn-shanghai.aliyuncs.com``, HTTPS) or a URL
(``http://127.0.0.1:8080``, used as given: the loopback emulator).

Example::

    >>> resolve_endpoint("Config", "cn-hangzhou", environ={})
    'config.cn-shanghai.aliyuncs.com'
    >>> resolve_endpoint("Config", "eu-central-1", environ={})
    'config.ap-southeast-1.aliyuncs.com'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["PRODUCTS", "Product", "resolve_endpoint"]


@dataclass(frozen=True)
class Product:
    """An RPC-style product: its API version and public endpoint template (``{region}``)."""

    name: str
    version: str
    endpoint: str


def _config_endpoint(region: str) -> str:
    # Cloud Config serves from two regions: cn-shanghai for the China site and ap-southeast-1
    # for the international site (docs/delivery.md). The FC region is the best hint we have.
    if region.startswith("cn-") and region != "cn-hongkong":
        return "config.cn-shanghai.aliyuncs.com"
    return "config.ap-southeast-1.aliyuncs.com"


PRODUCTS: dict[str, Product] = {
    "config": Product("Config", "2020-09-07", "{config}"),
    "resourcemanager": Product("ResourceManager", "2020-03-31", "resourcemanager.aliyuncs.com"),
}


def resolve_endpoint(product: str, region: str, environ: Mapping[str, str] | None = None) -> str:
    """The endpoint (host or URL) to call ``product`` at for ``region``."""
    env = os.environ if environ is None else environ
    key = product.replace("-", "").replace("_", "").lower()
    override = env.get(f"RULEKIT_{key.upper()}_ENDPOINT") or env.get("RULEKIT_ENDPOINT")
    if override:
        return override.strip().rstrip("/")
    known = PRODUCTS.get(key)
    template = known.endpoint if known else f"{key}.{{region}}.aliyuncs.com"
    if template == "{config}":
        return _config_endpoint(region)
    return template.format(region=region)
