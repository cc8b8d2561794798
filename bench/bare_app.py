"""The yardstick for the ack benchmark: a bare Flask endpoint that reads the body and answers 202.

Served by the same gunicorn settings (gunicorn.conf.py) as the connector, so the ratio of their
throughputs is the cost of verify + parse + durable insert + wake-up, not of the server.
"""

from __future__ import annotations

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.get("/health")
def health():  # type: ignore[no-untyped-def]
    return jsonify({"status": "ok"})


@app.post("/hooks/<route>")
def receive(route: str):  # type: ignore[no-untyped-def]
    request.get_data()
    return jsonify({"status": "accepted", "submissions": [1], "duplicates": 0}), 202
