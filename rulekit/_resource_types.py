"""Names of the resource types Cloud Config records, to catch misspellings when a rule loads.

A type close to a known one (``ACS::ECS::Instanse``) is an error with a suggestion; a well-formed
type that is not close to any known one is accepted with a warning, since the platform adds types
over time. Names only: the property lists' keys and types ship apart, in ``_search_columns.json``,
read only by sweeps using advanced search (rulekit._advanced_search).

Example::

    >>> suggest("ACS::ECS::Instanse")
    'ACS::ECS::Instance'
"""

from __future__ import annotations

__all__ = ["KNOWN_RESOURCE_TYPES", "suggest"]

KNOWN_RESOURCE_TYPES: frozenset[str] = frozenset(
    {
        "ACS::ACK::Cluster",
        "ACS::ADB::DBCluster",
        "ACS::ALB::Acl",
        "ACS::ALB::LoadBalancer",
        "ACS::ALB::SecurityPolicy",
        "ACS::ALB::ServerGroup",
        "ACS::ActionTrail::Trail",
        "ACS::Alidns::Domain",
        "ACS::Alidns::DomainGroup",
        "ACS::Alidns::Instance",
        "ACS::ApiGateway::Api",
        "ACS::ApiGateway::ApiGroup",
        "ACS::ApiGateway::App",
        "ACS::ApiGateway::Instance",
        "ACS::ApiGateway::Plugin",
        "ACS::Bastionhost::Instance",
        "ACS::CBWP::CommonBandwidthPackage",
        "ACS::CDN::Domain",
        "ACS::CEN::CenBandwidthPackage",
        "ACS::CEN::CenInstance",
        "ACS::CEN::CenRouteMap",
        "ACS::CEN::Flowlog",
        "ACS::CR::Instance",
        "ACS::CR::Namespace",
        "ACS::CR::Repository",
        "ACS::CloudFirewall::Asset",
        "ACS::CloudFirewall::ControlPolicy",
        "ACS::CloudFirewall::VpcFirewallCen",
        "ACS::CloudFirewall::VpcFirewallControlPolicy",
        "ACS::CloudSSO::AccessAssignment",
        "ACS::CloudSSO::AccessConfiguration",
        "ACS::CloudSSO::Directory",
        "ACS::CloudSSO::Group",
        "ACS::CloudSSO::SCIMServerCredential",
        "ACS::CloudSSO::User",
        "ACS::CloudStorageGateway::Gateway",
        "ACS::CloudStorageGateway::StorageBundle",
        "ACS::DDI::Cluster",
        "ACS::DDI::Flow",
        "ACS::DDI::FlowJob",
        "ACS::DDI::FlowProject",
        "ACS::DRDS::DBInstance",
        "ACS::DdosBgp::Instance",
        "ACS::DdosCoo::Instance",
        "ACS::EBS::DedicatedBlockStorageCluster",
        "ACS::EBS::DiskReplicaGroup",
        "ACS::EBS::DiskReplicaPair",
        "ACS::EBS::EnterpriseSnapshotPolicy",
        "ACS::ECS::AutoSnapshotPolicy",
        "ACS::ECS::Command",
        "ACS::ECS::DedicatedHost",
        "ACS::ECS::Disk",
        "ACS::ECS::Instance",
        "ACS::ECS::LaunchTemplate",
        "ACS::ECS::LaunchTemplateVersion",
        "ACS::ECS::SecurityGroup",
        "ACS::ECS::Snapshot",
        "ACS::EIP::EipAddress",
        "ACS::ESS::ScalingConfiguration",
        "ACS::ESS::ScalingGroup",
        "ACS::ESS::ScalingRule",
        "ACS::Eflo::Cluster",
        "ACS::Eflo::Node",
        "ACS::Elasticsearch::Instance",
        "ACS::Elasticsearch::Logstash",
        "ACS::ExpressConnect::RouterInterface",
        "ACS::FC::Function",
        "ACS::FC::Service",
        "ACS::FC::Trigger",
        "ACS::HBR::HanaInstance",
        "ACS::HBR::Vault",
        "ACS::HBase::Cluster",
        "ACS::KMS::Key",
        "ACS::KMS::Secret",
        "ACS::LedgerDB::Ledger",
        "ACS::MSE::Cluster",
        "ACS::MaxCompute::Project",
        "ACS::MessageService::Topic",
        "ACS::MongoDB::DBInstance",
        "ACS::NAS::AccessGroup",
        "ACS::NAS::FileSystem",
        "ACS::NAS::MountTarget",
        "ACS::NAT::NatGateway",
        "ACS::OOS::Inventory.Application",
        "ACS::OOS::Inventory.File",
        "ACS::OOS::Inventory.InstanceInformation",
        "ACS::OOS::Inventory.Network",
        "ACS::OOS::Inventory.Service",
        "ACS::OOS::Inventory.WindowsRegistry",
        "ACS::OOS::Inventory.WindowsRole",
        "ACS::OOS::Inventory.WindowsUpdate",
        "ACS::OSS::Bucket",
        "ACS::OTS::Instance",
        "ACS::OceanBase::Instance",
        "ACS::OceanBase::Tenant",
        "ACS::Ons::Group",
        "ACS::Ons::Instance",
        "ACS::Ons::Topic",
        "ACS::PolarDB::DBCluster",
        "ACS::PrivateLink::VpcEndpoint",
        "ACS::PrivateLink::VpcEndpointService",
        "ACS::PrivateZone::Zone",
        "ACS::RAM::Group",
        "ACS::RAM::Policy",
        "ACS::RAM::Role",
        "ACS::RAM::User",
        "ACS::RDS::DBInstance",
        "ACS::ROS::Stack",
        "ACS::ROS::StackGroup",
        "ACS::Redis::DBInstance",
        "ACS::ResourceManager::ResourceGroup",
        "ACS::SLB::AccessControlList",
        "ACS::SLB::CACertificate",
        "ACS::SLB::LoadBalancer",
        "ACS::SLB::ServerCertificate",
        "ACS::SLS::LogStore",
        "ACS::SLS::Project",
        "ACS::SSLCertificatesService::Certificate",
        "ACS::SecurityCenter::Instance",
        "ACS::TSDB::Instance",
        "ACS::VPC::FlowLog",
        "ACS::VPC::HaVip",
        "ACS::VPC::Ipv4Gateway",
        "ACS::VPC::PrefixList",
        "ACS::VPC::PublicIpAddressPool",
        "ACS::VPC::RouteTable",
        "ACS::VPC::TrafficMirrorFilter",
        "ACS::VPC::TrafficMirrorSession",
        "ACS::VPC::VPC",
        "ACS::VPC::VSwitch",
        "ACS::VPN::CustomerGateway",
        "ACS::VPN::VpnConnection",
        "ACS::VPN::VpnGateway",
        "ACS::WAF::Domain",
        "ACS::WAF::Instance",
    }
)

_LOWER = {name.lower(): name for name in KNOWN_RESOURCE_TYPES}


def suggest(resource_type: str) -> str | None:
    """The known type ``resource_type`` is probably a misspelling of, or None (known exactly,
    or not close to any known type)."""
    if resource_type in KNOWN_RESOURCE_TYPES:
        return None
    exact = _LOWER.get(resource_type.lower())
    if exact is not None:
        return exact
    import difflib  # only for a type that is not known exactly

    close = difflib.get_close_matches(resource_type, KNOWN_RESOURCE_TYPES, n=1, cutoff=0.85)
    return close[0] if close else None
