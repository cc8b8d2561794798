"""The process helpers the benchmarks and fault tests share (bench/common.py) leave nothing running."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bench import common

#: A server that answers 500 to everything, as a connector that cannot start its worker did.
FAILING_SERVER = """
import http.server, sys
class Failing(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(500)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Failing).serve_forever()
"""


def test_a_server_that_never_comes_up_is_stopped_not_left_behind(tmp_path: Path):
    port = common.free_port()
    proc = common.Proc("failing", [sys.executable, "-c", FAILING_SERVER, str(port)], common.base_process_env(),
                       tmp_path / "failing.log").start()
    try:
        with pytest.raises(RuntimeError, match="did not answer within 2 s"):
            common.wait_http(f"http://127.0.0.1:{port}/health", timeout=2, proc=proc)
        assert not proc.alive()
    finally:
        proc.stop()
