"""A stand-in for the authors' file server on 127.0.0.1: ``GET /?fileName=<file>``.

It serves ``files`` (name → bytes) as ``application/octet-stream`` with a ``Content-Length``,
honours ``Range: bytes=N-`` with ``206 Partial Content``, and can misbehave as the real server
is reported to, one switch each:

- ``html``: answer ``200`` with a ``text/html`` page asking to wait (``html_as_binary``: the same
  page labelled ``application/octet-stream``);
- ``cut_after``: the next ``cuts`` transfers announce the whole length but stop after that many
  bytes and close the connection (a dropped transfer);
- ``ignore_range``: answer every request with the whole file (``200``);
- ``delay``: seconds to wait before each 64 KiB block (to make transfers overlap).

An unknown name is a ``404``. Every request is recorded as ``(fileName, Range header)``.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

WAIT_PAGE = b"<!DOCTYPE html><html><body><p>Too many requests: please wait a minute and try again.</p></body></html>"


class AuthorsServer:
    """``with AuthorsServer({"Pix2Vox-F-ShapeNet.pth": data}) as server: server.url``."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = dict(files)
        self.requests: list[tuple[str, str | None]] = []
        self.html = False
        self.html_as_binary = False
        self.cut_after: int | None = None
        self.cuts = 1
        self.ignore_range = False
        self.delay = 0.0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def downloads(self, name: str) -> int:
        """Number of requests for ``name``."""
        return sum(1 for file, _ in self.requests if file == name)

    def start(self) -> AuthorsServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                name = parse_qs(urlsplit(self.path).query).get("fileName", [""])[0]
                with server._lock:
                    server.requests.append((name, self.headers.get("Range")))
                    cut = server.cut_after if server.cuts > 0 else None
                    if cut is not None:
                        server.cuts -= 1
                if server.html or server.html_as_binary:
                    return self._send(200, WAIT_PAGE, "application/octet-stream" if server.html_as_binary else "text/html")
                if name not in server.files:
                    return self._send(404, b"not found", "text/plain")
                data, start = server.files[name], 0
                asked = self.headers.get("Range")
                if asked and not server.ignore_range:
                    start = int(asked.removeprefix("bytes=").split("-")[0])
                    if start >= len(data):
                        return self._send(416, b"", "text/plain")
                self.send_response(206 if start else 200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data) - start))
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.end_headers()
                body = data[start:] if cut is None else data[start : start + cut]
                for offset in range(0, len(body), 1 << 16):
                    if server.delay:
                        time.sleep(server.delay)
                    self.wfile.write(body[offset : offset + (1 << 16)])
                if cut is not None:
                    self.close_connection = True

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> AuthorsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
