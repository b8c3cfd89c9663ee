"""Benchmark: CPU per API call, and import cost, of the ways to sign and send an RPC request.

The same PutEvaluations (one evaluation, as the hand-written handler sends it) goes to the
emulator in its own process, so only the client's CPU is counted (``time.process_time``):

- ``sdk_stack``: aliyun-python-sdk-core's ``AcsClient.do_action_with_exception`` with a
  ``CommonRequest``, the client kept (how rulekit sent requests before issue 16);
- ``sdk_signer``: the SDK's own signer (``rpc_signature_composer.get_signed_url``) over
  rulekit's kept-alive ``http.client`` connections, the SDK's request stack left out;
- ``rulekit``: ``ApiClient.call`` as a sweep or delivery makes it (rulekit's signer, the same
  connections, retry wrapper and JSON decoding included);
- ``handwritten``: bench/handwritten.py's handler keeping its SDK client, a whole invocation
  (decode the event, check, PutEvaluations).

The variants run interleaved round by round; each figure is the median over rounds, and the
ratios are medians of ratios within a round (drift on the shared VM hits all alike). Import
cost: a fresh interpreter importing what each path needs beyond ``rulekit._api`` (which the
handler imports anyway), minus one importing ``rulekit._api`` alone; medians of 15 runs."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from .common import credentials_env, emulator_process, median

CALLS = 200
ROUNDS = 15
IMPORT_RUNS = 15
VERSION = "2020-09-07"

# What each path imports beyond rulekit._api, which the FC handler imports in any case.
BASE_IMPORT = "import rulekit._api"
IMPORTS = {
    "sdk_stack": "import aliyunsdkcore.client, aliyunsdkcore.request, "
    "aliyunsdkcore.auth.credentials, aliyunsdkcore.auth.signers.sts_token_signer",
    "sdk_signer": "import aliyunsdkcore.auth.composer.rpc_signature_composer, rulekit._http",
    "rulekit": "import rulekit._signing, rulekit._http",
}


def _variants(url: str) -> dict[str, Callable[[], object]]:
    from aliyunsdkcore.auth.composer import rpc_signature_composer
    from aliyunsdkcore.auth.credentials import StsTokenCredential
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkcore.request import CommonRequest

    from rulekit._api import ApiClient
    from rulekit._http import Connections
    from rulekit._signing import SignedRequest
    from rulekit.testing import TEST_CREDENTIALS as creds

    from . import handwritten
    from .coldstart import EVENT

    token, evaluations = handwritten.evaluate(EVENT)
    params = {"ResultToken": token, "Evaluations": evaluations}
    sts = StsTokenCredential(creds.access_key_id, creds.access_key_secret, creds.security_token)
    sdk = AcsClient(region_id="cn-hangzhou", credential=sts, auto_retry=False)

    def sdk_stack() -> object:
        request = CommonRequest(
            domain=url, version=VERSION, action_name="PutEvaluations", product="Config"
        )
        request.set_method("POST")
        request.set_accept_format("JSON")
        for key, value in params.items():
            request.add_body_params(key, value)
        return json.loads(sdk.do_action_with_exception(request))

    connections = Connections()

    def sdk_signer() -> object:
        query = {
            "SecurityToken": creds.security_token,
            "Version": VERSION,
            "Action": "PutEvaluations",
            "Format": "JSON",
            "RegionId": "cn-hangzhou",
        }
        path, _ = rpc_signature_composer.get_signed_url(
            query, creds.access_key_id, creds.access_key_secret, "JSON", "POST", params
        )
        body = urlencode(params).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        status, answer = connections.post(
            url, SignedRequest(path, body, headers), connect_timeout=5, read_timeout=10
        )
        assert status == 200, answer
        return json.loads(answer)

    client = ApiClient(creds, region_id="cn-hangzhou")

    def rulekit() -> object:
        return client.call(
            "PutEvaluations", params, product="Config", version=VERSION, endpoint=url
        )

    context = types.SimpleNamespace(region="cn-hangzhou", credentials=creds)

    def hand() -> object:
        return handwritten.handler_reusing_client(EVENT, context)

    return {
        "sdk_stack": sdk_stack,
        "sdk_signer": sdk_signer,
        "rulekit": rulekit,
        "handwritten": hand,
    }


def _import_ms() -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in ["base", *IMPORTS]}
    code = {"base": BASE_IMPORT, **{k: f"{BASE_IMPORT}; {v}" for k, v in IMPORTS.items()}}
    for _ in range(IMPORT_RUNS):
        for name in samples:
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", code[name]], check=True)
            samples[name].append(time.perf_counter() - started)
    base = median(samples["base"])
    return {name: round((median(samples[name]) - base) * 1000, 1) for name in IMPORTS}


def run(calls: int = CALLS, rounds: int = ROUNDS) -> dict[str, Any]:
    with emulator_process() as url:
        os.environ.update(credentials_env(url))  # the hand-written handler reads its endpoint
        variants = _variants(url)
        for call in variants.values():  # connect, warm caches
            call()
        cpu: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(rounds):
            for name, call in variants.items():
                started = time.process_time()
                for _ in range(calls):
                    call()
                cpu[name].append((time.process_time() - started) / calls)

    def ratio(a: str, b: str) -> float:
        return round(statistics.median(x / y for x, y in zip(cpu[a], cpu[b], strict=True)), 2)

    out: dict[str, Any] = {"name": "CPU per API call (PutEvaluations, loopback)"}
    for name in variants:
        out[f"{name}_ms"] = round(median(cpu[name]) * 1000, 3)
    out["sdk_stack_vs_rulekit"] = ratio("sdk_stack", "rulekit")
    out["sdk_signer_vs_rulekit"] = ratio("sdk_signer", "rulekit")
    out["rulekit_vs_handwritten"] = ratio("rulekit", "handwritten")
    for name, ms in _import_ms().items():
        out[f"import_{name}_ms"] = ms
    out["target"] = "rulekit <= sdk_stack"
    out["ok"] = out["rulekit_ms"] <= out["sdk_stack_ms"]
    return out


if __name__ == "__main__":
    print(run())
