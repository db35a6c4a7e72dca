"""Modules imported on first use instead of at import time.

AWS Lambda imports app.py before it hands a new container its first event, so everything app.py
imports delays that event, whether the event needs it or not. Modules that pull in PynamoDB,
botocore, cryptography, PyJWT, WeChat Pay's SDK, qrcode or Powertools' batch utilities are
therefore named through a `LazyModule` by the light modules that app.py imports, and loaded by
the first request or event that reads one of their attributes. tests/unit/test_cold_start.py
keeps `import app` free of them."""
from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands for a module (named as for importlib.import_module, relative names with `package`)
    until one of its attributes is read, then imports it once and reads from it. The import
    system's per-module lock makes concurrent first reads (the local stack's threads) safe: the
    second waits for the module to finish loading rather than seeing half of it."""

    def __init__(self, name: str, package: str | None = None) -> None:
        self._name, self._package = name, package
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name, self._package)
        return getattr(self._module, attribute)

    def __repr__(self) -> str:
        state = "loaded" if self._module is not None else "not loaded yet"
        return f"<LazyModule {self._name!r} ({state})>"
