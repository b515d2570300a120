"""A loopback HTTP server (one host:port) that logs every request and counts how many it answers at once."""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

# path -> (status, body, content type, headers); a callable answers paths not listed
Route = tuple[int, bytes, str, dict]


class CountingServer:
    def __init__(self, routes: dict[str, Route] | None = None, fallback: Callable[[str], Route] | None = None,
                 delay: float = 0.0):
        self.routes = routes or {}
        self.fallback = fallback or (lambda path: (200, b"ok", "text/plain", {}))
        self.delay = delay
        self.log: list[tuple[str, str, float, float]] = []   # method, path, started, ended (monotonic)
        self.referers: dict[tuple[str, str], str | None] = {}  # (method, path) -> its Referer header
        self.now = 0
        self.most = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self, body_too: bool):
                started = server._enter()
                server.referers[self.command, self.path] = self.headers.get("Referer")
                try:
                    time.sleep(server.delay)
                    status, body, ctype, headers = server.routes.get(self.path) or server.fallback(self.path)
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    if body_too:
                        self.wfile.write(body)
                        self.wfile.flush()
                finally:
                    server._leave(self.command, self.path, started)

            def do_GET(self):  # noqa: N802 - http.server's naming
                self._serve(True)

            def do_HEAD(self):  # noqa: N802
                self._serve(False)

            def log_message(self, format, *args):  # noqa: A002
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def _enter(self) -> float:
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)
        return time.monotonic()

    def _leave(self, method: str, path: str, started: float) -> None:
        with self._lock:
            self.now -= 1
            self.log.append((method, path, started, time.monotonic()))

    def requested(self) -> list[tuple[str, str]]:
        with self._lock:
            return [(method, path) for method, path, _, _ in self.log]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
