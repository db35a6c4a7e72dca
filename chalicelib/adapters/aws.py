"""How every AWS client of the app retries, decided once: botocore's standard mode (throttles,
500s and transient errors, with exponential backoff and jitter), a bounded number of attempts.
PynamoDB's tables, the transaction connection and the boto3 clients (SQS, SNS) all use it."""
from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

# Five attempts: at a 5% fault rate a request still fails for good once in three million.
ATTEMPTS = 5
CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS = 5, 30


def client_config() -> Config:
    return Config(retries={"mode": "standard", "total_max_attempts": ATTEMPTS},
                  connect_timeout=CONNECT_TIMEOUT_SECONDS, read_timeout=READ_TIMEOUT_SECONDS)


def client(service: str, region: str) -> Any:
    return boto3.client(service, region_name=region, config=client_config())
