"""Rules that call cloud APIs, for ctx.call / ctx.paginate / AssumeRole tests."""

from rulekit import Compliance, rule


@rule(resource_type="ACS::VPC::VPC", name="vpc-flow-logs-enabled")
def vpc_flow_logs_enabled(resource, ctx):
    """A VPC must have an active flow log (Alibaba's sample rule), paging through the list."""
    logs = list(
        ctx.paginate(
            "Vpc",
            "DescribeFlowLogs",
            "FlowLogs.FlowLog",
            ResourceId=resource.id,
            ResourceType="VPC",
        )
    )
    if any(log.get("Status") == "Active" for log in logs):
        return Compliance.COMPLIANT
    return Compliance.NON_COMPLIANT, f"{len(logs)} flow log(s), none active"


@rule(resource_type="ACS::ECS::Instance", name="member-account-call")
def member_account_call(resource, ctx):
    """Calls ECS in the resource's own (member) account twice."""
    for _ in range(2):
        ctx.call(
            "Ecs",
            "DescribeInstances",
            account_id=resource.account_id,
            InstanceIds=f'["{resource.id}"]',
        )
    return Compliance.COMPLIANT


@rule(resource_type="ACS::ECS::Instance", name="token-paging")
def token_paging(resource, ctx):
    """Pages a NextToken-style API and reports how many items it saw."""
    items = list(
        ctx.paginate(
            "Ecs",
            "ListTagResources",
            "TagResources.TagResource",
            ResourceType="instance",
            NextToken="",
        )
    )
    return Compliance.COMPLIANT, f"{len(items)} items"
