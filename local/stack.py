"""`make run`: the whole system on this machine.

moto's server is AWS on loopback (MOTO_PORT), tables come from the PynamoDB models, a demo
catalog and the admin are seeded, and chalice's local gateway serves the API (API_PORT).
Secrets are generated here at start-up and live only in this process's environment."""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from local import keys

ROOT = Path(__file__).resolve().parent.parent


def wait_for_port(port: int, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"moto did not start on port {port}")


def local_environment(moto_port: int) -> dict[str, str]:
    stage = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = dict(stage.get("environment_variables", {}))
    env.update(stage["stages"]["local"].get("environment_variables", {}))
    endpoint = f"http://127.0.0.1:{moto_port}"
    env.update({
        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": "local",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
        "DYNAMODB_ENDPOINT": endpoint, "AWS_ENDPOINT_URL": endpoint,
    })
    env.update(keys.local_secrets(dict(os.environ)))
    return env


def main() -> None:
    api_port = int(os.environ.get("API_PORT", "8000"))
    moto_port = int(os.environ.get("MOTO_PORT", "5000"))
    password = os.environ.get("LOCAL_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
    os.environ.update(local_environment(moto_port))

    moto = subprocess.Popen([sys.executable, "-m", "local.moto_server", "--port", str(moto_port)], cwd=ROOT)

    def stop(*_: object) -> None:
        moto.terminate()
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        wait_for_port(moto_port)
        serve(api_port, password)
    finally:
        moto.terminate()


def serve(api_port: int, password: str) -> None:
    sys.path.insert(0, str(ROOT))
    from local.aws_resources import create_queues_and_topic
    # Queue names are read when app.py registers its SQS handlers: they must exist first.
    os.environ.update(create_queues_and_topic(os.environ["TABLE_PREFIX"], int(os.environ.get(
        "REFUND_MAX_ATTEMPTS", "5")), os.environ["AWS_REGION"]))
    os.environ.setdefault("RETRY_BASE_SECONDS", "2")

    from chalice.cli.factory import CLIFactory
    from chalice.local import create_local_server

    from app import app
    from chalicelib.adapters.tables import create_tables
    from chalicelib.bootstrap import context
    from chalicelib.domain.commands import NewStaff
    from chalicelib.service_layer.auth import ensure_staff
    import app as app_module
    from local import gateway, seed
    from local.pump import EventPump
    from local.streams import StreamReader, stream_handlers

    from chalicelib.adapters.payment_sandbox import SandboxGateway, SandboxRecord
    create_tables()
    create_tables((SandboxRecord,))
    ctx = context()
    products = seed.seed(ctx)
    ensure_staff(ctx, seed.SYSTEM, NewStaff("admin", password, ["admin"]))
    gateway.install()
    config = CLIFactory(str(ROOT)).create_config_obj(chalice_stage_name="local")
    server = create_local_server(app, config, "127.0.0.1", api_port)
    gateway = ctx.wechat_pay
    assert isinstance(gateway, SandboxGateway)
    notify = requests.Session()

    def post_notice(path: str, headers: dict[str, str], body: str) -> int:
        return notify.post(f"http://127.0.0.1:{api_port}{path}", data=body.encode(), headers=headers,
                           timeout=30).status_code

    retry_scale = float(os.environ.get("SANDBOX_NOTICE_RETRY_SCALE", "0.1"))
    EventPump({os.environ["REFUNDS_QUEUE_NAME"]: app_module.refunds_worker,
               os.environ["ALERTS_QUEUE_NAME"]: app_module.alerts_worker,
               os.environ["EXPIRY_QUEUE_NAME"]: app_module.expiry_worker,
               os.environ["NOTIFICATIONS_QUEUE_NAME"]: app_module.notifications_worker},
              app_module.every_minute, float(os.environ.get("LOCAL_SCHEDULE_SECONDS", "60")),
              os.environ["AWS_REGION"], notices=lambda: gateway.deliver_notices(post_notice, retry_scale),
              streams=StreamReader(stream_handlers(app_module), os.environ["AWS_REGION"]),
              workers={os.environ["EXPIRY_QUEUE_NAME"]: 4}).start()
    print(f"micromall is running: http://127.0.0.1:{api_port}  (AWS on {os.environ['AWS_ENDPOINT_URL']})")
    print(f"seeded {products} demo products; staff login: admin / {password}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
