"""The viewer's local web server: standard-library ``http.server``, 127.0.0.1 only.

Every request must carry the session's random token, as ``?token=`` in the URL or the
``X-Fastdefect-Token`` header; anything else gets ``403``. The ``Host`` header must name
the server itself (a page elsewhere cannot reach it through a DNS name that points at
127.0.0.1). The page is plain HTML, CSS and JavaScript from this package, served with a
Content-Security-Policy that allows nothing but this server: it makes no request
anywhere else.

Routes (all ``GET`` unless said):

==========================  ==========================================================
``/``                       the page
``/static/NAME``            its script and style sheet
``/api/info``               frame size, levels, stretch, kinds, formats (JSON)
``/api/list``               the list: rows, columns, kinds, verdicts, counts (JSON)
``/api/pixel?row=&column=`` one pixel: value, corrected value, verdict and reason
``/api/tile/MODE/L/R/C``    raw samples of a tile (``MODE`` raw or mask), headers say
                            its size and dtype; ``Server-Timing`` its cost
``POST /api/add``           ``{"row": r, "column": c}``: list a pixel
``POST /api/remove``        ``{"row": r, "column": c}``: unlist a pixel
``POST /api/undo``          undo the last edit
``POST /api/save``          ``{"path", "format", "overwrite"}``: ``{"saved": false,
                            "exists": true}`` when the file exists and ``overwrite``
                            is not set (nothing written)
==========================  ==========================================================
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..errors import FastDefectError, OutputExistsError
from .session import ViewerSession

__all__ = ["HOST", "ViewerServer", "serve"]

HOST = "127.0.0.1"
TOKEN_HEADER = "X-Fastdefect-Token"
_STATIC = {
    "viewer.js": "text/javascript; charset=utf-8",
    "viewer.css": "text/css; charset=utf-8",
}
_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_MAX_BODY = 65536
_REFUSED = "this viewer needs its token: open the URL it printed"


def _static(name: str) -> bytes:
    return resources.files(__package__).joinpath("static", name).read_bytes()


class ViewerServer:
    """A running viewer: the HTTP server on its own thread, for one session.

    Parameters
    ----------
    session : ViewerSession
    port : int
        0 (default) picks a free port at random.
    token : str, optional
        Default: 32 random URL-safe characters.

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, session: ViewerSession, *, port: int = 0, token: str | None = None):
        self.session = session
        self.token = token or secrets.token_urlsafe(24)
        handler = type("_BoundHandler", (_Handler,), {"viewer": self})
        self.httpd = ThreadingHTTPServer((HOST, port), handler)
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The page's address, token included."""
        return f"http://{HOST}:{self.port}/?token={self.token}"

    def start(self) -> ViewerServer:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, name="fastdefect-viewer", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ViewerServer:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def page(self) -> bytes:
        text = _static("index.html").decode("utf-8")
        # The frame's description rides in the page (a JSON data block, not a script);
        # "<" escaped so no text in it can close the block.
        info = json.dumps(self.session.describe()).replace("<", "\\u003c")
        return text.replace("__TOKEN__", self.token).replace("__INFO__", info).encode("utf-8")


def serve(session: ViewerSession, *, port: int = 0) -> ViewerServer:
    """Start a :class:`ViewerServer` for ``session`` and return it (running)."""
    return ViewerServer(session, port=port).start()


class _Handler(BaseHTTPRequestHandler):
    viewer: ViewerServer
    server_version = "fastdefect-viewer"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the page polls tiles: a log line per request would drown the terminal

    # -- guards -------------------------------------------------------------------------

    def _authorised(self, query: dict[str, list[str]]) -> bool:
        given = self.headers.get(TOKEN_HEADER) or (query.get("token") or [""])[0]
        host = self.headers.get("Host", "")
        allowed = {f"{HOST}:{self.viewer.port}", f"localhost:{self.viewer.port}"}
        return host in allowed and hmac.compare_digest(given.encode(), self.viewer.token.encode())

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Security-Policy", _POLICY)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, document: Any) -> None:
        body = json.dumps(document).encode("utf-8")
        self._send(status, body, "application/json")

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": message})

    def _refuse_body(self, status: int, message: str) -> None:
        """Refuse a request whose body is left unread: close the connection after it,
        or the body would be read as the next request."""
        self.close_connection = True
        self._send(
            status,
            json.dumps({"error": message}).encode("utf-8"),
            "application/json",
            {"Connection": "close"},
        )

    # -- methods ------------------------------------------------------------------------

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        if not self._authorised(query):
            self._error(HTTPStatus.FORBIDDEN, _REFUSED)
            return
        try:
            self._get(parts.path, query)
        except FastDefectError as exc:
            self._error(HTTPStatus.BAD_REQUEST, str(exc))
        except (ValueError, KeyError, IndexError) as exc:
            self._error(HTTPStatus.BAD_REQUEST, f"bad request: {exc}")

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        if not self._authorised(parse_qs(parts.query)):
            self._refuse_body(HTTPStatus.FORBIDDEN, _REFUSED)
            return
        if "application/json" not in self.headers.get("Content-Type", ""):
            self._refuse_body(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send application/json")
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            self._refuse_body(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request too large")
            return
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            self._post(parts.path, body)
        except OutputExistsError as exc:
            # Not an error of the request: the page asks the user, then saves again.
            self._json(HTTPStatus.OK, {"saved": False, "exists": True, "message": str(exc)})
        except FastDefectError as exc:
            self._error(HTTPStatus.BAD_REQUEST, str(exc))
        except (ValueError, KeyError, TypeError) as exc:
            self._error(HTTPStatus.BAD_REQUEST, f"bad request: {exc}")

    # -- routes -------------------------------------------------------------------------

    def _get(self, path: str, query: dict[str, list[str]]) -> None:
        session = self.viewer.session
        if path in ("/", "/index.html"):
            self._send(HTTPStatus.OK, self.viewer.page(), "text/html; charset=utf-8")
        elif path.startswith("/static/") and path[len("/static/") :] in _STATIC:
            name = path[len("/static/") :]
            self._send(HTTPStatus.OK, _static(name), _STATIC[name])
        elif path == "/api/info":
            self._json(HTTPStatus.OK, session.describe())
        elif path == "/api/list":
            self._json(HTTPStatus.OK, session.list_state())
        elif path == "/api/pixel":
            self._json(HTTPStatus.OK, session.pixel(int(query["row"][0]), int(query["column"][0])))
        elif path.startswith("/api/tile/"):
            mode, level, row, column = path[len("/api/tile/") :].split("/")
            started = time.perf_counter()
            samples = session.tile(mode, int(level), int(row), int(column))
            body = samples.astype(samples.dtype.newbyteorder("<"), copy=False).tobytes()
            spent = 1000 * (time.perf_counter() - started)
            headers = {
                "X-Tile-Width": str(samples.shape[1]),
                "X-Tile-Height": str(samples.shape[0]),
                "X-Tile-Dtype": samples.dtype.name,
                "Server-Timing": f"tile;dur={spent:.2f}",
            }
            self._send(HTTPStatus.OK, body, "application/octet-stream", headers)
        else:
            self._error(HTTPStatus.NOT_FOUND, f"no such page {path}")

    def _post(self, path: str, body: dict[str, Any]) -> None:
        session = self.viewer.session
        if path == "/api/add":
            changed = session.add(int(body["row"]), int(body["column"]))
        elif path == "/api/remove":
            changed = session.remove(int(body["row"]), int(body["column"]))
        elif path == "/api/undo":
            changed = session.undo()
        elif path == "/api/save":
            result = session.save(
                str(body["path"]), body.get("format") or None, overwrite=bool(body.get("overwrite"))
            )
            self._json(
                HTTPStatus.OK,
                {
                    "saved": True,
                    "path": str(result.path),
                    "format": result.format,
                    "entries": result.entries,
                    "replaced": result.replaced,
                },
            )
            return
        else:
            self._error(HTTPStatus.NOT_FOUND, f"no such action {path}")
            return
        state = session.list_state()
        state["changed"] = changed
        self._json(HTTPStatus.OK, state)
