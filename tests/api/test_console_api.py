"""The console's files as the API serves them: pages, the service worker and a fixed list of
assets, each with its type, a content security policy, and nothing else reachable."""
from __future__ import annotations

import pytest

from chalicelib.api.console_routes import asset_names


def test_the_pages_are_served_in_chinese_with_a_strict_policy(anonymous) -> None:  # type: ignore[no-untyped-def]
    for path in ("/console", "/console/scanner"):
        r = anonymous.get(path)
        if r.status_code == 302:                                # /console without its slash
            assert r.headers["Location"] == "console/"          # relative: this host, this stage
            continue
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
        body = r.body.decode() if isinstance(r.body, bytes) else r.body
        assert '<html lang="zh-CN">' in body
        assert "script-src 'self'" in r.headers["Content-Security-Policy"]
        assert "<script>" not in body                           # no inline script: the policy allows none


def test_assets_and_the_service_worker(anonymous) -> None:  # type: ignore[no-untyped-def]
    names = asset_names()
    assert {"scanner.js", "console.js", "console.css", "noble-ed25519-2.3.0.js", "jsqr-1.4.0.js"} <= set(names)
    for name in names:
        r = anonymous.get(f"/console/assets/{name}")
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("text/css" if name.endswith(".css") else "text/javascript")
    for name in asset_names("pages"):
        r = anonymous.get(f"/console/assets/pages/{name}")
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/javascript")
    assert anonymous.get("/console/assets/pages/nope.js").status_code == 404
    worker = anonymous.get("/console/sw.js")
    assert worker.status_code == 200 and worker.headers["Content-Type"].startswith("text/javascript")
    assert worker.headers["Cache-Control"] == "no-cache"        # a new deployment reaches the gates


@pytest.mark.parametrize("name", ["..%2Fconsole_routes.py", "nope.js", "sw.js", "..", "LICENSE"])
def test_nothing_else_is_served(anonymous, name: str) -> None:  # type: ignore[no-untyped-def]
    r = anonymous.get(f"/console/assets/{name}")
    assert r.status_code == 404 and r.json_body["code"] == "NOT_FOUND"


def served() -> set[str]:
    return set(asset_names()) | {f"pages/{name}" for name in asset_names("pages")}


def test_every_file_the_pages_name_is_served_and_cached() -> None:
    """The service worker caches every module the pages load, so that both open offline: a name
    missing from the assets would break the offline page at install, a module missing from the
    cache would leave the page without it offline."""
    import re
    from chalicelib.api.console_routes import ROOT
    worker = (ROOT / "sw.js").read_text()
    cached = re.findall(r'"\./assets/([^"]+)"', worker)
    assert set(cached) == served()
    for page in ("index.html", "scanner.html"):
        named = re.findall(r'assets/([a-z0-9.-]+)', (ROOT / page).read_text())
        assert set(named) <= set(asset_names()) and set(named) <= set(cached), page


def test_every_module_a_module_imports_is_served() -> None:
    import posixpath
    import re
    from chalicelib.api.console_routes import ROOT
    for name in served():
        text = (ROOT / "assets" / name).read_text()
        for target in re.findall(r'^import [^;]*? from "(\.{1,2}/[^"]+)";', text, re.MULTILINE):
            assert posixpath.normpath(posixpath.join(posixpath.dirname(name), target)) in served(), (name, target)


def test_vendored_files_are_the_published_ones_with_their_licences() -> None:
    """Each third-party file is listed in VENDORED.md with the hash of the file as npm published
    it, and its licence ships beside it."""
    import hashlib
    import re
    from chalicelib.api.console_routes import ROOT
    listed = re.findall(r"^\| (assets/[^ ]+) \| [^|]+ \| [^|]+ \| [^|]*\(([^)]+)\) \| ([0-9a-f]{64}) \|$",
                        (ROOT / "VENDORED.md").read_text(), re.MULTILINE)
    assert len(listed) == 3
    for path, licences, digest in listed:
        assert hashlib.sha256((ROOT / path).read_bytes()).hexdigest() == digest, path
        for licence in licences.split(", "):
            assert (ROOT / licence).read_text().strip(), licence
