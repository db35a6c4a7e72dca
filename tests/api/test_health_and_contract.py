from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from app import app
from chalicelib.api.access import ALL_STAFF, ROUTES
from chalicelib.api.openapi import ERROR_STATUS, document


def test_health(anonymous) -> None:  # type: ignore[no-untyped-def]
    r = anonymous.get("/health")
    assert r.status_code == 200 and r.json_body == {"status": "ok"}


def test_openapi_lists_exactly_the_routes_the_app_serves(anonymous) -> None:  # type: ignore[no-untyped-def]
    served = {(method, path) for path, methods in app.routes.items() for method in methods}
    doc = anonymous.get("/openapi.json").json_body
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert documented == served == set(ROUTES)
    validate(doc)  # a valid OpenAPI 3.1 document


def test_openapi_states_each_routes_roles_and_errors() -> None:
    doc = document()
    for (method, path), rule in ROUTES.items():
        op = doc["paths"][path][method.lower()]
        assert op["x-roles"] == sorted(rule.who)
        assert (op["security"] == []) == rule.public
        for entry in rule.errors:
            code, _, status = entry.partition("@")  # "CODE@401" when the code's usual status differs
            status = status or str(ERROR_STATUS[code])
            assert status in op["responses"]
            assert code in op["responses"][status]["description"]


def test_admin_may_do_everything_staff_may() -> None:
    for rule in ROUTES.values():
        if rule.who & ALL_STAFF:
            assert "admin" in rule.who


def test_every_non_public_route_has_the_token_authorizer() -> None:
    for (method, path), rule in ROUTES.items():
        entry = app.routes[path][method]
        assert (entry.authorizer is None) == rule.public, (method, path)


def test_unknown_route_is_404_in_the_error_body(anonymous) -> None:  # type: ignore[no-untyped-def]
    r = anonymous.get("/no/such/thing")
    assert r.status_code == 404 and r.json_body["code"] == "NOT_FOUND"


def test_importing_app_does_not_import_image_libraries() -> None:
    import subprocess
    import sys
    code = "import app, sys; print(sorted(m for m in sys.modules if m.split('.')[0] in ('PIL', 'qrcode', 'png')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]))
    assert out.stdout.strip() == "[]"


def test_dev_routes_exist_in_the_local_stage_only() -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path
    code = ("import app; print(sorted(p for p in app.app.routes if p.startswith('/dev/'))); "
            "from chalicelib.api.openapi import document; print(sorted(p for p in document()['paths'] if p.startswith('/dev/')))")
    root = str(Path(__file__).resolve().parents[2])
    for stage, expected in (("prod", "[]"), ("", "[]"), ("local", "['/dev/payments/refund-outcomes', '/dev/payments/refunds', "
                                                  "'/dev/payments/refunds/{out_refund_no}/notify', "
                                                  "'/dev/payments/{order_id}/succeed', '/dev/schedule/run', "
                                                  "'/dev/wechat/messages', '/dev/wechat/messages/outcomes']")):
        env = {k: v for k, v in os.environ.items() if k != "STAGE"}
        if stage:
            env["STAGE"] = stage
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root, env=env)
        assert out.stdout.split("\n")[:2] == [expected, expected], (stage, out.stdout)


def test_the_token_authorizer_needs_only_the_token_key() -> None:
    """Its cold start fetches one secret: none of the payment, QR or personal-data keys."""
    import os
    import subprocess
    import sys
    from pathlib import Path
    code = r"""
import base64, os
from chalicelib.adapters.security import TokenService
from chalicelib.domain.principal import Principal
from chalicelib.api.guard import token_authorizer
token = TokenService(base64.b64decode(os.environ["JWT_SECRET"]), 60).issue(Principal("U1", "customer"))
event = {"type": "TOKEN", "authorizationToken": "Bearer " + token,
         "methodArn": "arn:aws:execute-api:us-east-1:123:api/api/GET/orders"}
print(token_authorizer(event, None)["principalId"])
"""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATA_KEY", "QR_SIGNING_KEYS", "WECHATPAY_CONFIG", "SANDBOX_PLATFORM_PRIVATE_KEY")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=str(Path(__file__).resolve().parents[2]))
    assert out.stdout.strip() == "U1", out.stderr


def test_answers_with_tokens_or_personal_data_are_kept_by_no_cache(anonymous, customer, make_product) -> None:  # type: ignore[no-untyped-def]
    from .conftest import order_body, ticket_body
    product, (sku,) = make_product(ticket_body([10]))
    login = anonymous.post("/auth/wechat/login", {"code": "dev:cache-test"})
    assert login.status_code == 200 and login.headers["Cache-Control"] == "no-store"
    alice = customer()
    order = alice.post("/orders", order_body((sku, 1)))
    assert order.status_code == 201 and order.headers["Cache-Control"] == "no-store"
    assert anonymous.post(f"/dev/payments/{order.json_body['order_id']}/succeed", {}).status_code == 200
    mine = alice.get(f"/orders/{order.json_body['order_id']}/tickets")
    assert mine.headers["Cache-Control"] == "no-store"
    png = alice.get(f"/tickets/{mine.json_body['items'][0]['ticket_id']}/qr.png", headers={"Accept": "image/png"})
    assert png.status_code == 200 and png.headers["Cache-Control"] == "no-store"
    # The public catalog holds nothing personal: caches may keep it.
    public = anonymous.get(f"/catalog/products/{product['product_id']}")
    assert public.status_code == 200 and "no-store" not in public.headers.get("Cache-Control", "")


def test_wiring_takes_any_piece_of_the_context_in_place_of_its_own() -> None:
    """A test replaces one port (here the clock) and keeps every other adapter as deployed; a
    misspelt piece is refused rather than silently ignored."""
    from datetime import datetime, timezone

    from chalicelib import wiring
    from chalicelib.adapters.order_repository import OrderRepository

    def fixed() -> datetime:
        return datetime(2026, 1, 1, tzinfo=timezone.utc)
    ctx = wiring.build_context(clock=fixed)
    assert ctx.clock is fixed and isinstance(ctx.orders, OrderRepository)
    with pytest.raises(TypeError, match="colck"):
        wiring.build_context(colck=fixed)
