"""OSS rules for rulekit, modelled on Cloud Config's managed rules (all pure conditions).

| rule | check |
| --- | --- |
| oss-bucket-public-read-prohibited | ACL is not public-read or public-read-write |
| oss-bucket-public-write-prohibited | ACL is not public-read-write |
| oss-bucket-server-side-encryption-enabled | server-side encryption (AES256, KMS or SM4) |
"""

from __future__ import annotations

from rulekit.conditions import condition_rule, path

__all__ = [
    "oss_bucket_public_read_prohibited",
    "oss_bucket_public_write_prohibited",
    "oss_bucket_server_side_encryption_enabled",
]

BUCKET = "ACS::OSS::Bucket"

oss_bucket_public_read_prohibited = condition_rule(
    "oss-bucket-public-read-prohibited",
    BUCKET,
    path("$.AccessControlList.Grant").not_string_in(["public-read", "public-read-write"]),
    risk_level=1,
    description="OSS buckets do not allow anonymous reads.",
)

oss_bucket_public_write_prohibited = condition_rule(
    "oss-bucket-public-write-prohibited",
    BUCKET,
    path("$.AccessControlList.Grant").not_string_equals("public-read-write"),
    risk_level=1,
    description="OSS buckets do not allow anonymous writes.",
)

oss_bucket_server_side_encryption_enabled = condition_rule(
    "oss-bucket-server-side-encryption-enabled",
    BUCKET,
    path("$.ServerSideEncryptionRule.SSEAlgorithm").string_in(["AES256", "KMS", "SM4"]),
    risk_level=2,
    description="OSS buckets encrypt objects at rest.",
)
