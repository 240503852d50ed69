"""A Hugging Face Hub stand-in on 127.0.0.1, enough for ``hf_hub_download``.

It answers ``HEAD``/``GET /{org}/{name}/resolve/{revision}/{filename}`` with a quoted ``ETag``
(the file's SHA-256, as the Hub gives for LFS files), ``X-Repo-Commit`` and ``Content-Length``;
``revision`` is a branch name or a full commit hash. Anything else is a 404 carrying
``X-Error-Code: EntryNotFound`` (``/api/...`` included). Every request is recorded.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit


@dataclass
class Repo:
    """Commits (40-hex → {filename: bytes}) and branches (name → commit) of one repository."""

    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)

    def commit(self, sha: str, files: dict[str, bytes], *, branch: str | None = "main") -> str:
        assert len(sha) == 40 and all(c in "0123456789abcdef" for c in sha), sha
        self.commits[sha] = dict(files)
        if branch:
            self.branches[branch] = sha
        return sha


class HubServer:
    """``with HubServer() as hub: hub.repo("org/name").commit(sha, {...}); hub.url``."""

    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.requests: list[tuple[str, str, str]] = []  # method, path, User-Agent
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.running = False

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def repo(self, repo_id: str) -> Repo:
        return self.repos.setdefault(repo_id, Repo())

    def count(self, method: str, fragment: str = "") -> int:
        """Requests seen with this method whose path contains ``fragment``."""
        with self._lock:
            return sum(1 for m, path, _ in self.requests if m == method and fragment in path)

    def start(self) -> HubServer:
        self._thread.start()
        self.running = True
        return self

    def stop(self) -> None:
        if self.running:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self.running = False
        self._server.server_close()

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _lookup(self, path: str) -> tuple[str, bytes] | None:
        parts = [unquote(p) for p in urlsplit(path).path.split("/")]
        # ['', org, name, 'resolve', revision, *filename]
        if len(parts) < 6 or parts[3] != "resolve":
            return None
        repo = self.repos.get(f"{parts[1]}/{parts[2]}")
        if repo is None:
            return None
        commit = repo.branches.get(parts[4], parts[4])
        content = repo.commits.get(commit, {}).get("/".join(parts[5:]))
        return None if content is None else (commit, content)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # keep test output clean
                pass

            def _answer(self, body: bool) -> None:
                with hub._lock:
                    hub.requests.append((self.command, self.path, self.headers.get("User-Agent", "")))
                found = hub._lookup(self.path)
                if found is None:
                    self.send_response(404)
                    self.send_header("X-Error-Code", "EntryNotFound")
                    self.send_header("X-Error-Message", "Entry not found")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                commit, content = found
                self.send_response(200)
                self.send_header("ETag", f'"{hashlib.sha256(content).hexdigest()}"')
                self.send_header("X-Repo-Commit", commit)
                self.send_header("Content-Length", str(len(content)))
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                if body:
                    self.wfile.write(content)

            def do_HEAD(self) -> None:
                self._answer(body=False)

            def do_GET(self) -> None:
                self._answer(body=True)

        return Handler
