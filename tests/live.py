"""A real portal served over HTTP from a thread, for tests that drive it as a client would."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        pass


@contextmanager
def serve(app: Flask, port: int = 0, handler: type = QuietHandler) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 and yield its URL; on exit, wait for every request thread.

    werkzeug's threaded server leaves its request threads running when it stops. One still
    holding a database connection while the test's engine is disposed hands that connection
    back to a pool nobody closes, and PostgreSQL's driver then warns about it in whichever
    test runs when it is collected."""
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=handler)
    server.daemon_threads = False  # so server_close() joins them
    server.block_on_close = True
    thread = threading.Thread(target=server.serve_forever, name="live-portal", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
