"""Logs are JSON with correlation ids and never carry personal data."""
from __future__ import annotations

import io
import json

from chalicelib import observability

from .conftest import order_body, ticket_body

PHONE, ID_NUMBER = "13912345678", "11010519491231002X"


def test_logs_are_json_with_correlation_ids_and_no_personal_data(customer, make_product, anonymous, staff,
                                                                  capfd) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(ticket_body([5], real_name=True))
    alice = customer()
    body = order_body((sku, 1), visitors=[{"name": "Alice", "id_number": ID_NUMBER}])
    body["contact"] = {"name": "Alice", "phone": PHONE}
    capfd.readouterr()
    handler = observability.logger().registered_handler
    buffer = io.StringIO()
    previous = handler.setStream(buffer)          # the handler keeps the stdout it was built with
    try:
        order = alice.post("/orders", body).json_body
        anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {"amount": 1})      # mismatch: logged
        paid = alice.post("/orders", body).json_body
        anonymous.post(f"/dev/payments/{paid['order_id']}/succeed", {})
        (ticket,) = alice.get(f"/orders/{paid['order_id']}/tickets").json_body["items"]
        staff("scanner").post("/redemptions", {"code": ticket["qr"], "gate": "G", "device_id": "d"})
    finally:
        handler.setStream(previous)
    output = capfd.readouterr()
    everything = output.out + output.err + buffer.getvalue()
    assert PHONE not in everything and ID_NUMBER not in everything and ID_NUMBER[:-1] not in everything
    logs = [json.loads(line) for line in buffer.getvalue().splitlines()]
    warning = next(entry for entry in logs if "refunded automatically" in entry["message"])
    assert warning["level"] == "WARNING" and warning["service"] == "micromall"
    assert warning["order_id"] == order["order_id"] and warning["route"].endswith("/succeed")


def test_the_first_invocation_of_a_container_emits_a_cold_start_metric(anonymous, capsys) -> None:  # type: ignore[no-untyped-def]
    observability._cold = True                      # as in a fresh Lambda container
    capsys.readouterr()
    anonymous.get("/health")
    anonymous.get("/health")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    cold = [line for line in lines if "ColdStart" in line]
    assert len(cold) == 1 and cold[0]["function"] == "Request" and cold[0]["service"] == "micromall"


def test_the_cold_path_leaves_tracing_to_the_first_invocation(anonymous) -> None:  # type: ignore[no-untyped-def]
    """Importing app.py (what a cold start does before the first event) loads no X-Ray SDK; the
    first invocation builds the tracer and traces it."""
    import subprocess
    import sys
    from pathlib import Path
    probe = "import sys, app; print('aws_xray_sdk' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=Path(__file__).resolve().parents[2],
                            capture_output=True, text=True, check=True).stdout.split()[-1]
    assert loaded == "False"
    assert anonymous.get("/health").status_code == 200
    assert observability.tracer() is observability.tracer()      # built once, on first use
