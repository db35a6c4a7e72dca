"""Structured JSON logs with correlation ids, traces and the cold-start metric (Powertools).
Logs carry ids (request, order, refund), never bodies: no phone or ID number reaches them."""
from __future__ import annotations

import logging
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

SERVICE = "micromall"
logger = Logger(service=SERVICE)
_tracer: Any = None
_cold = True

# The modules log through the standard library ("micromall.*"); they get the same JSON format.
for _name in ("micromall",):
    logging.getLogger(_name)
copy_config_to_registered_loggers(source_logger=logger, include={"micromall"})


def tracer() -> Any:
    """Powertools' Tracer, built (and boto3 patched for X-Ray) on the first invocation rather than
    at import: aws_xray_sdk alone costs more than boto3 to import, and a cold start imports app.py
    before the runtime hands over the first event."""
    global _tracer
    if _tracer is None:
        from aws_lambda_powertools import Tracer
        _tracer = Tracer(service=SERVICE)
    return _tracer


def correlate(**ids: Any) -> None:
    logger.append_keys(**{k: v for k, v in ids.items() if v})


def start_invocation(function: str, request_id: str | None, metrics: Any) -> None:
    """Per invocation: fresh correlation keys, and on the container's first call a ColdStart metric."""
    global _cold
    logger.remove_keys(["request_id", "order_id", "refund_id", "route"])
    correlate(request_id=request_id, function=function)
    if _cold:
        _cold = False
        metrics.count("ColdStart", function=function)
