"""`python -m local.cold_start` (part of `make bench`): what a Lambda cold start costs here.

Each figure is the best of COLD_START_RUNS (7) fresh interpreters, printed as `BENCH <name> <value>
<unit>`: the wall time of `import boto3` and of `import app` (in a deployed stage's settings), each
less a bare interpreter's start (`-c pass`), and their ratio. Then, against moto's server on
loopback (tables created beforehand, in another process), the first `GET /catalog/products` of a
fresh process that has imported app.py: the event goes to the app as Lambda hands it over (an API
Gateway proxy event), so what the request imports on first use (PynamoDB, botocore, the adapters,
Powertools) is in the figure, and the packages it loaded are listed on stderr.

Machine figures, for comparing runs; no test asserts them (tests/unit/test_cold_start.py checks
what `import app` loads instead)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from local.stack import local_environment, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("COLD_START_RUNS", "7"))
PATH = "/catalog/products"

# The first request, as the Lambda runtime would hand it over; prints its figures as JSON.
FIRST_REQUEST = """
import json, sys, time, types
started = time.perf_counter()
import app
imported = time.perf_counter()
before = set(sys.modules)
path = %r
event = {"resource": path, "path": path, "httpMethod": "GET", "headers": {"Host": "localhost"},
         "multiValueHeaders": {"Host": ["localhost"]}, "queryStringParameters": None,
         "multiValueQueryStringParameters": None, "pathParameters": None, "stageVariables": None,
         "body": None, "isBase64Encoded": False,
         "requestContext": {"resourcePath": path, "httpMethod": "GET", "requestId": "cold-1", "path": path,
                            "stage": "api", "identity": {"sourceIp": "127.0.0.1"}}}
context = types.SimpleNamespace(aws_request_id="cold-1", function_name="micromall-api", memory_limit_in_mb=512,
                                invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:micromall-api",
                                get_remaining_time_in_millis=lambda: 30000)
first = app.app(event, context)
answered = time.perf_counter()
second = app.app(dict(event, requestContext=dict(event["requestContext"], requestId="cold-2")), context)
print(json.dumps({"import_ms": (imported - started) * 1000, "first_ms": (answered - imported) * 1000,
                  "second_ms": (time.perf_counter() - answered) * 1000,
                  "status": [first["statusCode"], second["statusCode"]],
                  "loaded": sorted({m.split(".")[0] for m in set(sys.modules) - before if not m.startswith("_")})}))
"""


def bench(name: str, value: float, unit: str) -> None:
    print(f"BENCH {name} {value:.2f} {unit}", flush=True)


def deployed_environment() -> dict[str, str]:
    """The prod stage's variables from .chalice/config.json: no /dev/ routes, tracing on."""
    stages = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = dict(os.environ, **stages.get("environment_variables", {}))
    env.update(stages["stages"]["prod"].get("environment_variables", {}))
    env.setdefault("AWS_REGION", "us-east-1")
    return env


def best_ms(code: str, env: dict[str, str]) -> float:
    """The fastest of RUNS fresh interpreters running `code`, wall time in ms."""
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
        times.append((time.perf_counter() - started) * 1000)
    return min(times)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def first_requests() -> list[dict[str, Any]]:
    """RUNS fresh processes, each importing app.py and answering its first request."""
    port = _free_port()
    env = dict(os.environ, **local_environment(port))
    moto = subprocess.Popen([sys.executable, "-m", "local.moto_server", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        subprocess.run([sys.executable, "-c", "from chalicelib.adapters.tables import create_tables; create_tables()"],
                       cwd=ROOT, env=env, check=True)
        runs = []
        for _ in range(RUNS):
            done = subprocess.run([sys.executable, "-c", FIRST_REQUEST % (PATH,)], cwd=ROOT, env=env, check=True,
                                  capture_output=True, text=True)
            runs.append(json.loads(done.stdout.splitlines()[-1]))
        return runs
    finally:
        moto.terminate()
        moto.wait(timeout=20)


def main() -> None:
    env = deployed_environment()
    bare = best_ms("pass", env)
    boto3_ms = best_ms("import boto3", env) - bare
    app_ms = best_ms("import app", env) - bare
    bench("import_boto3_ms", boto3_ms, "ms")
    bench("import_app_ms", app_ms, "ms")
    bench("import_app_vs_boto3", app_ms / boto3_ms, "x")
    runs = first_requests()
    if any(run["status"] != [200, 200] for run in runs):
        raise SystemExit(f"GET {PATH} did not answer 200: {[run['status'] for run in runs]}")
    bench("first_request_ms", min(run["first_ms"] for run in runs), "ms")
    bench("second_request_ms", min(run["second_ms"] for run in runs), "ms")
    print(f"first GET {PATH} loaded: {' '.join(runs[0]['loaded'])}", file=sys.stderr)


if __name__ == "__main__":
    main()
