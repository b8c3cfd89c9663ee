"""A module named in RULEKIT_RULES that defines no rule."""

VALUE = 1
