"""Deployment templates from rule metadata: Terraform, ROS and Serverless Devs (docs/deploy.md).

Example::

    files = render(Deployment.from_rules(plugins.rules), "terraform")   # {"main.tf": "..."}
"""

from __future__ import annotations

from .model import ConfigRuleSpec, Deployment, Parameter
from .render import FORMATS, render

__all__ = ["FORMATS", "ConfigRuleSpec", "Deployment", "Parameter", "render"]
