"""`make test`: every layer of the suite, the independent ones at the same time.

Three lanes run side by side, each its steps in order; the layers share nothing but the CPU (each
end-to-end step starts its own stack on free ports, the API layer runs moto in-process):

1. unit, infra and API tests (in-process), then the contract's acceptance suite, plain and with faults;
2. end-to-end and browser tests against `make run`, then a session's cancellation of a few hundred
   tickets with faults (long, it waits mostly on the queues; left out of the faults' layer below);
3. the contract fuzz (schemathesis, each role on the operations it may call), then the end-to-end
   layer again with 5% of the embedded AWS's DynamoDB and SQS requests failing as AWS fails
   (LOCAL_FAULT_RATE), its negative controls left out.

Each step's output goes to build/test-logs/; a failed step's tail is printed. The time of each
step is printed at the end (the per-layer figures the team compares)."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT / "build" / "test-logs"
FUZZ = "tests/e2e/test_contract_fuzz.py"
FAULTS = {"LOCAL_FAULT_RATE": "0.05"}
CANCELLATION = "tests/e2e/test_session_cancellation_e2e.py"      # under faults only, after the e2e layer


@dataclass
class Step:
    name: str
    args: list[str]
    env: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    code: int | None = None
    summary: str = ""

    @property
    def log(self) -> Path:
        return LOGS / (self.name.replace(" ", "-").replace(",", "") + ".log")


# A negative control shows that the app's own protection is what holds an invariant: it removes it
# on a twin, which injected faults change nothing about, so the faults' run leaves the controls out
# (the races themselves run again under faults). So are the tests that script an exact number of
# conflicts ("keeps colliding"): a random fault on top is one more than they count.
LANES = [
    [Step("unit infra api", ["tests/unit", "tests/infra", "tests/api"]),
     Step("acceptance", ["../shared/acceptance"]),
     Step("acceptance with faults", ["../shared/acceptance"], FAULTS)],
    [Step("e2e browser", ["tests/e2e", "tests/browser", "--deselect", FUZZ]),
     Step("cancellation with faults", [CANCELLATION], FAULTS)],
    [Step("contract fuzz", [FUZZ]),
     Step("e2e with faults", ["tests/e2e", "-k", "not negative_control and not keeps_colliding", "--ignore",
                              CANCELLATION], FAULTS)],
]


def run(step: Step) -> None:
    started = time.monotonic()
    with step.log.open("w") as out:
        step.code = subprocess.call([sys.executable, "-m", "pytest", *step.args, "-p", "no:cacheprovider", "-q"],
                                    cwd=ROOT, env={**os.environ, **step.env}, stdout=out, stderr=subprocess.STDOUT)
    step.seconds = time.monotonic() - started
    lines = [line for line in step.log.read_text(errors="replace").splitlines() if line.strip()]
    step.summary = lines[-1] if lines else ""
    print(f"{'ok  ' if step.code == 0 else 'FAIL'} {step.name:<24} {step.seconds:6.0f} s  {step.summary}", flush=True)


def lane(steps: list[Step]) -> None:
    for step in steps:
        run(step)


def main() -> int:
    LOGS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    threads = [threading.Thread(target=lane, args=(steps,)) for steps in LANES]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    steps = [step for steps in LANES for step in steps]
    for step in steps:
        if step.code != 0:
            tail = step.log.read_text(errors="replace").splitlines()[-150:]
            print(f"\n======== {step.name} failed ({step.log.relative_to(ROOT)}) ========\n" + "\n".join(tail))
    print(f"\nmake test: {time.monotonic() - started:.0f} s in all; per layer: "
          + ", ".join(f"{s.name} {s.seconds:.0f} s" for s in steps), flush=True)
    return 0 if all(step.code == 0 for step in steps) else 1


if __name__ == "__main__":
    sys.exit(main())
