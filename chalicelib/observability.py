"""Structured JSON logs with correlation ids, traces and the cold-start metric (Powertools).
Logs carry ids (request, order, refund), never bodies: no phone or ID number reaches them.

Nothing of Powertools loads at import: the logger and the tracer are built on the first
invocation (`start_invocation`), not while a cold start imports app.py. Powertools' package
alone imports botocore, and aws_xray_sdk costs more than boto3 to import."""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

SERVICE = "micromall"
_tracer: Any = None
_cold = True


@functools.lru_cache(maxsize=1)
def logger() -> Logger:
    """Powertools' JSON logger; the modules log through the standard library ("micromall.*")
    and get the same format."""
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

    built = Logger(service=SERVICE)
    copy_config_to_registered_loggers(source_logger=built, include={SERVICE})
    return built


def tracer() -> Any:
    """Powertools' Tracer, built (and boto3 patched for X-Ray) on the first invocation rather than
    at import."""
    global _tracer
    if _tracer is None:
        from aws_lambda_powertools import Tracer
        _tracer = Tracer(service=SERVICE)
    return _tracer


def correlate(**ids: Any) -> None:
    logger().append_keys(**{k: v for k, v in ids.items() if v})


def start_invocation(function: str, request_id: str | None, metrics: Any) -> None:
    """Per invocation: fresh correlation keys, and on the container's first call a ColdStart metric."""
    global _cold
    logger().remove_keys(["request_id", "order_id", "refund_id", "route"])
    correlate(request_id=request_id, function=function)
    if _cold:
        _cold = False
        metrics.count("ColdStart", function=function)
