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
import re
from collections.abc import Mapping
from typing import NamedTuple

__all__ = ["PRODUCTS", "Product", "product", "resolve_endpoint"]


class Product(NamedTuple):
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


#: Known products by lower-case name: default API version and public endpoint.
PRODUCTS: dict[str, Product] = {
    p.name.lower(): p
    for p in (
        Product("Config", "2020-09-07", "{config}"),
        Product("ResourceManager", "2020-03-31", "resourcemanager.aliyuncs.com"),
        Product("Ecs", "2014-05-26", "ecs.{region}.aliyuncs.com"),
        Product("Vpc", "2016-04-28", "vpc.{region}.aliyuncs.com"),
        Product("Ram", "2015-05-01", "ram.aliyuncs.com"),
        Product("Rds", "2014-08-15", "rds.aliyuncs.com"),
        Product("Slb", "2014-05-15", "slb.{region}.aliyuncs.com"),
        Product("Sts", "2015-04-01", "sts.aliyuncs.com"),
        Product("Kms", "2016-01-20", "kms.{region}.aliyuncs.com"),
        Product("Actiontrail", "2020-07-06", "actiontrail.{region}.aliyuncs.com"),
    )
}


def product(name: str) -> Product | None:
    """The known product called ``name`` (case-insensitive), or None."""
    return PRODUCTS.get(name.replace("-", "").replace("_", "").lower())


def resolve_endpoint(product: str, region: str, environ: Mapping[str, str] | None = None) -> str:
    """The endpoint (host or URL) to call ``product`` at for ``region``."""
    env = os.environ if environ is None else environ
    key = product.replace("-", "").replace("_", "").lower()
    name = f"RULEKIT_{key.upper()}_ENDPOINT"
    if not env.get(name):
        name = "RULEKIT_ENDPOINT"
    override = env.get(name)
    if override:
        return _checked(name, override.strip().rstrip("/"))
    known = PRODUCTS.get(key)
    template = known.endpoint if known else f"{key}.{{region}}.aliyuncs.com"
    if template == "{config}":
        return _config_endpoint(region)
    return template.format(region=region)


_ENDPOINT = re.compile(r"(https?://)?[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?")


def _checked(variable: str, endpoint: str) -> str:
    """An endpoint override is a host, host:port or an http(s) URL: anything else (ftp://x, a
    path, a stray space) would reach the SDK as a host name and fail far from its cause."""
    if not _ENDPOINT.fullmatch(endpoint):
        from ._errors import ConfigurationError

        raise ConfigurationError(
            f"{variable} must be a host (config.cn-shanghai.aliyuncs.com), host:port or an "
            f"http(s):// URL, got {endpoint[:80]!r}"
        )
    return endpoint
