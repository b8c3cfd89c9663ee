"""Deployment templates from rule metadata: Terraform, ROS, Serverless Devs and Config API requests
(docs/deploy.md).

Example::

    files = render(Deployment.from_rules(plugins.rules), "terraform")   # {"main.tf": "..."}
"""

from __future__ import annotations

from .model import ConfigRuleSpec, Deployment, Parameter
from .render import FORMATS, render

__all__ = ["FORMATS", "ConfigRuleSpec", "Deployment", "Parameter", "render"]
