"""The baseline for bench/http_bench.py: a bare Flask app with one JSON route, nothing else.

    gunicorn --workers 2 --threads 4 'bench.bare_app:app'    (from the repository root)

Served by the same gunicorn settings as the portal, it shows what the machine, gunicorn and
Flask cost on their own, so the portal's requests per second can be quoted as a ratio.
"""

from __future__ import annotations

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/bare")
def bare():
    """About the size of a small search answer's envelope, without the search."""
    return jsonify({"status": "ok", "results": [], "total": 0})
