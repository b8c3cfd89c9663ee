"""A rule module that fails to import (a dependency missing in the deployment)."""

import rulekit_no_such_dependency  # noqa: F401
