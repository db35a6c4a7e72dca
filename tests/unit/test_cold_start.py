"""A Lambda cold start imports app.py before the first event arrives, so what app.py imports is
paid by every new container. It must register everything Chalice needs (routes, the authorizer,
the event handlers, the middleware) while leaving the AWS SDK, PynamoDB, the crypto libraries,
WeChat Pay's SDK, Powertools and X-Ray to the first request that uses them. Checked in a fresh
interpreter, by what it loaded rather than by how long it took (timings: `python -m local.cold_start`)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Top-level packages (and Powertools' tracing) that no part of `import app` may load.
HEAVY = ("botocore", "boto3", "s3transfer", "pynamodb", "cryptography", "jwt", "wechatpayv3", "requests",
         "urllib3", "aws_lambda_powertools", "aws_xray_sdk", "qrcode", "png")


def fresh(code: str, **env: str) -> dict:  # type: ignore[type-arg]
    """Runs `code` in a new interpreter (the test environment of tests/conftest.py, plus `env`)
    and returns the JSON it prints last."""
    import os
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, **env},
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


PROBE = """
import json, sys
import app
from chalicelib import config
from chalicelib.api.access import ROUTES
local = config.settings().is_local
print(json.dumps({
    "loaded": sorted({m for m in sys.modules if m.split(".")[0] in %r}),
    "routes": sorted(f"{m} {p}" for p, methods in app.app.routes.items() for m in methods),
    "expected": sorted(f"{m} {p}" for (m, p), rule in ROUTES.items() if local or not rule.local_only),
    "events": sorted(type(e).__name__ for e in app.app.event_sources),
    "authorizers": [a.name for a in app.app.builtin_auth_handlers],
    "middleware": sorted(f"{kind} {func.__name__}" for func, kind in app.app.middleware_handlers),
}))
"""


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_importing_the_app_registers_everything_and_loads_no_heavy_library(stage: str) -> None:
    found = fresh(PROBE % (HEAVY,), STAGE=stage)
    assert found["loaded"] == []
    assert found["routes"] == found["expected"] and len(found["routes"]) > 40
    # a stream reader per streamed table (orders, refunds, tickets, SKUs, user coupons, after-sales)
    assert found["events"] == ["DynamoDBEventConfig"] * 6 + ["SQSEventConfig"] * 4 + ["ScheduledEventConfig"]
    assert found["authorizers"] == ["token_authorizer"]
    assert found["middleware"] == ["all observe", "http error_bodies"]


FIRST_REQUEST = """
import json, sys
import app
from chalice.test import Client
with Client(app.app) as client:
    status = client.http.get(%r).status_code
print(json.dumps({"status": status, "loaded": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def test_a_first_health_check_needs_no_database_crypto_or_payment_library() -> None:
    found = fresh(FIRST_REQUEST % ("/health",))
    assert found["status"] == 200
    assert not {"pynamodb", "cryptography", "jwt", "wechatpayv3", "qrcode"} & set(found["loaded"])


AUTHORIZER = """
import json, sys
import app
from chalicelib import bootstrap
from chalicelib.api import guard
from chalicelib.domain.principal import Principal
token = bootstrap.token_service().issue(Principal("alice", "customer", frozenset()))
answer = guard.token_authorizer({"type": "TOKEN", "authorizationToken": "Bearer " + token,
                                 "methodArn": "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/api/GET/orders"}, None)
print(json.dumps({"principal": answer["principalId"], "loaded": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def test_the_token_authorizer_loads_the_token_service_and_not_the_database() -> None:
    found = fresh(AUTHORIZER)
    assert found["principal"] == "alice"
    assert not {"botocore", "pynamodb", "wechatpayv3", "qrcode", "aws_lambda_powertools"} & set(found["loaded"])
