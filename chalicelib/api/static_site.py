"""The browser sites the API serves itself (the staff console, the customer shop): static files
from a folder of chalicelib, served through the API so that `make run` and every deployed stage
serve them from the same origin as the API they call (no CORS, no second deployment), with no
build step. One site is one folder: its pages, and assets/ (with assets/pages/, a module per
page) listed once, since the files are part of the package: nothing else is reachable."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

from chalice import Response

from ..domain.error_codes import ErrorCode
from ..domain.errors import NotFound
from .http import Call

TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".html": "text/html; charset=utf-8"}
# Same origin only; blob:/data: for the camera frames, chart exports and drawn QR codes; no inline script.
POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
          "media-src 'self' blob: mediastream:; connect-src 'self'; worker-src 'self'; frame-ancestors 'none'; "
          "base-uri 'none'; form-action 'self'; object-src 'none'")
# A site that sets no style inline (the shop: its pages are built from classes) allows none either.
STRICT_POLICY = POLICY.replace("style-src 'self' 'unsafe-inline'", "style-src 'self'")
ASSET_NAME = r"^[a-z0-9.-]{1,64}$"        # how an asset's name looks (the path parameter's schema)


@lru_cache(maxsize=None)
def _listing(folder: Path) -> tuple[str, ...]:
    return tuple(sorted(p.name for p in folder.iterdir() if p.suffix in (".js", ".css")))


@lru_cache(maxsize=None)
def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@dataclass(frozen=True)
class StaticSite:
    root: Path            # the site's folder
    prefix: str           # its path under the API: "console" serves /console/...
    policy: str = POLICY  # its Content-Security-Policy

    def asset_names(self, folder: str = "") -> tuple[str, ...]:
        """The files in assets/ (or in its folder `folder`: pages/ holds a module per page)."""
        return _listing(self.root / "assets" / folder)

    def file(self, relative: str, cache: str = "no-cache", **extra: str) -> Response:
        """A file of the site. Revalidated on every load (no-cache): the files carry no version in
        their names, and a page must never run one deployment's script with another's."""
        return Response(body=_text(self.root / relative), status_code=200,
                        headers={"Content-Type": TYPES[Path(relative).suffix], "Cache-Control": cache,
                                 "Content-Security-Policy": self.policy, "X-Content-Type-Options": "nosniff",
                                 "Referrer-Policy": "no-referrer", **extra})

    def page(self, call: Call, relative: str, name: str = "") -> Response:
        """A page resolves its assets relative to /<prefix>/: the site's home (`name` empty) is a
        directory, so /console is sent to /console/; a named page is not, so /console/scanner/ is
        sent to /console/scanner (API Gateway routes both spellings here). The Location is
        relative, so it stays on this host and stage whatever the request said."""
        path = str(call.request.context.get("path") or "")
        directory = not name
        if path and path.endswith("/") != directory:
            # The query goes along: /shop?code=<wx.login code> must still sign the visitor in.
            query = urlencode(call.request.query_params or {})
            location = (f"{self.prefix}/" if directory else f"../{name}") + (f"?{query}" if query else "")
            return Response(body="", status_code=302, headers={"Location": location, "Content-Type": "text/html"})
        return self.file(relative)

    def asset(self, name: str, folder: str = "") -> Response:
        """assets/<name> or assets/<folder>/<name>, when the site has it; else 404."""
        if name not in self.asset_names(folder):
            raise NotFound("no such file", code=ErrorCode.NOT_FOUND)
        return self.file("/".join(part for part in ("assets", folder, name) if part))
