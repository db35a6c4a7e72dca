"""The console's browser code outside the browser: its node tests (tests/js: the offline gate's
rule against the server's table of cases, reading a signed code), run here so that `make test`
runs them, and the size of its modules."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = ROOT / "chalicelib" / "console"
MAX_LINES = 350


def test_the_node_tests_of_the_browser_modules_pass() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node (20 or later) runs tests/js, the browser modules' tests: install it (apt-get install nodejs)")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    assert int(version.lstrip("v").split(".")[0]) >= 20, f"tests/js needs node 20 or later, not {version}"
    run = subprocess.run([node, "--test", "tests/js/"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert re.search(r"^# pass [1-9]", run.stdout, re.MULTILINE), run.stdout[-2000:]


def test_no_module_of_ours_is_over_350_lines() -> None:
    """Small modules named by what they hold; the vendored files (VENDORED.md) are as published."""
    vendored = set(re.findall(r"^\| assets/([^ ]+) \|", (CONSOLE / "VENDORED.md").read_text(), re.MULTILINE))
    ours = [p for p in (CONSOLE / "assets").rglob("*.js") if p.name not in vendored]
    assert len(ours) > 10 and len(vendored) == 3
    long = {p.relative_to(CONSOLE).as_posix(): n for p in ours if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, long


def test_no_module_of_the_shop_is_over_300_lines() -> None:
    """The shop (chalicelib/shop) is built the same way, its vendored files as published."""
    shop = ROOT / "chalicelib" / "shop"
    vendored = set(re.findall(r"^\| assets/([^ ]+) \|", (shop / "VENDORED.md").read_text(), re.MULTILINE))
    ours = [p for p in (shop / "assets").rglob("*.js") if p.name not in vendored]
    assert len(ours) > 10 and vendored == {"qrcode-generator-2.0.4.js"}
    long = {p.relative_to(shop).as_posix(): n for p in ours if (n := len(p.read_text().splitlines())) > 300}
    assert not long, long
