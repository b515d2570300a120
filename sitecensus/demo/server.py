"""Serve generated sites on 127.0.0.1, one HTTP server (own port) per site, in background threads."""
from __future__ import annotations

import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict = field(default_factory=dict)
    delay: float = 0.0              # seconds to wait before answering (a hanging link)
    then: "Reply | None" = None     # answer once, then answer this from the next request on


@dataclass
class SiteFiles:
    """path -> Reply; `fallback` answers every other path (default: a 404 page). `handlers` answer
    a path by the request: handler(method, query params, form params) -> Reply (data endpoints such as
    a Hanweb dataproxy.jsp, which reads startrecord/endrecord and a POSTed form)."""

    pages: dict[str, Reply] = field(default_factory=dict)
    fallback: Reply | None = None
    handlers: dict[str, Callable[[str, dict, dict], Reply]] = field(default_factory=dict)


_NOT_FOUND = Reply(404, "<html><head><title>404 页面不存在</title></head><body>您访问的页面不存在</body></html>".encode())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    files: SiteFiles

    def _answer(self, form: dict) -> Reply:
        path = self.path.split("#")[0]
        parts = urlsplit(path)
        handler = self.files.handlers.get(parts.path)
        if handler is not None:
            return handler(self.command, dict(parse_qsl(parts.query, keep_blank_values=True)), form)
        key = path if path in self.files.pages else path.split("?")[0]
        return self.files.pages.get(key) or self.files.fallback or _NOT_FOUND

    def _reply(self, send_body: bool, form: dict | None = None):
        path = self.path.split("#")[0]
        key = path if path in self.files.pages else path.split("?")[0]
        reply = self._answer(form or {})
        if reply.then is not None:
            self.files.pages[key] = reply.then
        if reply.delay:
            time.sleep(reply.delay)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if send_body:
            try:
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    def do_GET(self):  # noqa: N802 - http.server's naming
        self._reply(True)

    def do_HEAD(self):  # noqa: N802
        self._reply(False)

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        self._reply(True, dict(parse_qsl(body, keep_blank_values=True)))

    def log_message(self, format, *args):  # noqa: A002 - silence the per-request log
        pass


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a crawler hanging up early (HEAD, StopDownload, timeouts) is normal here


class DemoServer:
    """Bind first (so pages can name their own port), then `serve(files)`."""

    def __init__(self, host: str = "127.0.0.1", tls: "ssl.SSLContext | None" = None):
        handler = type("Handler", (_Handler,), {"files": SiteFiles()})
        self.httpd = _QuietServer((host, 0), handler)
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.handler = handler
        scheme = "https" if tls is not None else "http"
        self.base_url = f"{scheme}://{host}:{self.httpd.server_address[1]}/"
        self.thread: threading.Thread | None = None

    def serve(self, files: SiteFiles) -> None:
        self.handler.files = files
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True, name=self.base_url)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def closed_port_url(host: str = "127.0.0.1") -> str:
    """A loopback address where nothing listens (connection refused)."""
    probe = ThreadingHTTPServer((host, 0), BaseHTTPRequestHandler)
    port = probe.server_address[1]
    probe.server_close()
    return f"http://{host}:{port}/"
