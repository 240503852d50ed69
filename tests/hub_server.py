"""A Hugging Face Hub stand-in on 127.0.0.1, enough for ``hf_hub_download`` and ``HfApi.upload_folder``.

Downloads: it answers ``HEAD``/``GET /{org}/{name}/resolve/{revision}/{filename}`` with a quoted
``ETag`` (the file's SHA-256, as the Hub gives for LFS files), ``X-Repo-Commit`` and
``Content-Length``; ``revision`` is a branch name or a full commit hash.

Uploads, the endpoints ``HfApi.create_repo``, ``create_branch`` and ``upload_folder`` use with the
LFS protocol (``HF_HUB_DISABLE_XET``: the Xet protocol needs a CAS server):

- ``POST /api/repos/create`` (409 when the repository exists), ``POST /api/models/{repo}/branch/{b}``;
- ``POST /api/validate-yaml`` (a README.md is committed);
- ``POST /api/models/{repo}/preupload/{revision}``: ``*.safetensors`` and files of 10 MiB or more are
  ``lfs``, the others ``regular``;
- ``POST /{repo}.git/info/lfs/objects/batch``, then ``PUT /lfs/{oid}`` (the body must hash to the
  oid) and ``POST /lfs/{oid}/verify``;
- ``POST /api/models/{repo}/commit/{revision}`` (NDJSON: ``header``, ``file`` in base64, ``lfsFile``
  naming an uploaded oid): a new commit on the branch, answered with ``commitOid``.

Anything else is a 404 carrying ``X-Error-Code: EntryNotFound``. Every request is recorded, and
the ``Authorization`` header of each in ``authorizations``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit


@dataclass
class Repo:
    """Commits (40-hex → {filename: bytes}) and branches (name → commit) of one repository."""

    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    private: bool = False
    messages: dict[str, str] = field(default_factory=dict)  # commit → summary, for pushed commits

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
        self.authorizations: list[str | None] = []  # Authorization header of each request
        self.lfs: dict[str, bytes] = {}  # oid (SHA-256) → content of uploaded LFS objects
        self.uploads: dict[str, str] = {}  # path → upload mode ("regular" or "lfs") of committed files
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

            def _record(self) -> None:
                with hub._lock:
                    hub.requests.append((self.command, self.path, self.headers.get("User-Agent", "")))
                    hub.authorizations.append(self.headers.get("Authorization"))

            def _error(self, status: int = 404, code: str = "EntryNotFound", message: str = "Entry not found") -> None:
                self.send_response(status)
                self.send_header("X-Error-Code", code)
                self.send_header("X-Error-Message", message)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _json(self, value: object, status: int = 200) -> None:
                data = json.dumps(value).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while size := int(self.rfile.readline().split(b";")[0], 16):
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    self.rfile.readline()
                    return b"".join(chunks)
                return self.rfile.read(int(self.headers.get("Content-Length", 0)))

            def _answer(self, body: bool) -> None:
                self._record()
                found = hub._lookup(self.path)
                if found is None:
                    self._error()
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

            def do_PUT(self) -> None:
                self._record()
                body = self._body()
                oid = urlsplit(self.path).path.removeprefix("/lfs/")
                if hashlib.sha256(body).hexdigest() != oid:
                    self._error(400, "BadRequest", "content does not match its oid")
                    return
                with hub._lock:
                    hub.lfs[oid] = body
                self._json({})

            def do_POST(self) -> None:
                self._record()
                path = unquote(urlsplit(self.path).path)
                body = self._body()
                if path == "/api/repos/create":
                    request = json.loads(body)
                    repo_id = f"{request['organization']}/{request['name']}" if request.get("organization") else request["name"]
                    exists = repo_id in hub.repos
                    if not exists:
                        hub.repos[repo_id] = Repo(private=request.get("visibility") == "private")
                    # as the Hub: a 409 for an existing repository, still naming its address
                    answer = {"url": f"{hub.url}/{repo_id}", "name": repo_id}
                    self._json(answer | {"error": "You already created this model repo"} if exists else answer, 409 if exists else 200)
                elif path == "/api/validate-yaml":
                    self._json({"errors": [], "warnings": []})
                elif match := re.fullmatch(r"/([^/]+/[^/]+)\.git/info/lfs/objects/batch", path):
                    objects = json.loads(body)["objects"]
                    answer = [
                        {"oid": o["oid"], "size": o["size"]}
                        | ({} if o["oid"] in hub.lfs else {"actions": {"upload": {"href": f"{hub.url}/lfs/{o['oid']}"},
                                                                      "verify": {"href": f"{hub.url}/lfs/{o['oid']}/verify"}}})
                        for o in objects
                    ]
                    self._json({"transfer": "basic", "objects": answer})
                elif match := re.fullmatch(r"/lfs/([0-9a-f]{64})/verify", path):
                    request = json.loads(body)
                    ok = match[1] in hub.lfs and len(hub.lfs[match[1]]) == request["size"]
                    self._json({}) if ok else self._error(400, "BadRequest", "object not uploaded")
                elif match := re.fullmatch(r"/api/models/([^/]+/[^/]+)/(preupload|commit|branch)/(.+)", path):
                    repo = hub.repos.get(match[1])
                    if repo is None:
                        self._error(404, "RepoNotFound", "Repository not found")
                    else:
                        getattr(self, f"_{match[2]}")(repo, match[3], body)
                else:
                    self._error()

            def _branch(self, repo: Repo, branch: str, body: bytes) -> None:
                if branch in repo.branches:
                    self._error(409, "BranchExists", "Reference already exists")
                    return
                if "main" in repo.branches:
                    repo.branches[branch] = repo.branches["main"]
                self._json({})

            def _preupload(self, repo: Repo, revision: str, body: bytes) -> None:
                files = json.loads(body)["files"]
                modes = [{"path": f["path"], "uploadMode": "lfs" if f["path"].endswith(".safetensors") or f["size"] >= 10 << 20
                          else "regular", "shouldIgnore": False} for f in files]
                self._json({"files": modes})

            def _commit(self, repo: Repo, revision: str, body: bytes) -> None:
                lines = [json.loads(line) for line in body.splitlines() if line.strip()]
                parent = repo.branches.get(revision)
                if parent is None and repo.branches and revision != "main":
                    self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
                    return
                files = dict(repo.commits.get(parent, {}))
                modes = {}
                for line in lines:
                    value = line["value"]
                    if line["key"] == "file":
                        files[value["path"]] = base64.b64decode(value["content"])
                        modes[value["path"]] = "regular"
                    elif line["key"] == "lfsFile":
                        if value["oid"] not in hub.lfs:
                            self._error(400, "BadRequest", f"LFS object {value['oid']} was not uploaded")
                            return
                        files[value["path"]] = hub.lfs[value["oid"]]
                        modes[value["path"]] = "lfs"
                    elif line["key"] in ("deletedFile", "deletedFolder"):
                        files.pop(value["path"], None)
                summary = lines[0]["value"]["summary"]
                sha = hashlib.sha1(f"{parent}{summary}{sorted(files.items())}".encode()).hexdigest()
                repo.commit(sha, files, branch=revision)
                repo.messages[sha] = summary
                hub.uploads.update(modes)
                self._json({"commitUrl": f"{hub.url}/{self._repo_id(repo)}/commit/{sha}", "commitOid": sha})

            def _repo_id(self, repo: Repo) -> str:
                return next(name for name, r in hub.repos.items() if r is repo)

        return Handler
