"""The rule the advanced-search benchmark runs: bench/sweep_rule.py's check as a condition rule,
whose one featurePath a sweep reads by advanced search."""

from rulekit.conditions import condition_rule, path

bench_image_condition = condition_rule(
    "bench-image-condition",
    "ACS::ECS::Instance",
    path("$.ImageId").string_equals("m-approved"),
    frequency="One_Hour",
)
