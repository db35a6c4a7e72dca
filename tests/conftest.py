"""Shared test set-up. The environment is set before any chalicelib import, because the table
names and endpoints are read from it when the models are defined."""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local.keys import generated_secrets  # noqa: E402  (imports nothing of chalicelib)

os.environ.update({
    "STAGE": "local", "TABLE_PREFIX": "micromall-test-", "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1", "ORDER_PAYMENT_TIMEOUT_SECONDS": "900", **generated_secrets(),
    "REFUNDS_QUEUE_NAME": "micromall-test-refunds", "ALERTS_QUEUE_NAME": "micromall-test-alerts",
    "EXPIRY_QUEUE_NAME": "micromall-test-expiry.fifo", "NOTIFICATIONS_QUEUE_NAME": "micromall-test-notifications",
    "ALERTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:micromall-test-alerts", "REFUND_MAX_ATTEMPTS": "3",
    "RETRY_BASE_SECONDS": "0", "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_SERVICE_NAME": "micromall",
})
for name in ("DYNAMODB_ENDPOINT", "AWS_ENDPOINT_URL"):
    os.environ.pop(name, None)
