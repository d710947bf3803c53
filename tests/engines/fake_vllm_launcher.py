"""A stand-in for vLLM's CLI behind the real launcher (backend/engines/vllm_cpu_launcher.py), so the
managed server's lifecycle is tested through the same code path without vLLM installed.

It answers `GET /v1/models` with the served name plus what it was started with (arguments, the CPU
environment, its pid and a worker's pid). FAKE_VLLM_MODE picks a behaviour: ok (default), crash (exits
at start-up), silent (never answers), stubborn (ignores SIGTERM), worker (spawns a worker process, as
vLLM does, that must end with the server).
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from backend.engines.vllm_cpu_launcher import main  # noqa: E402


def fake_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("command")
    parser.add_argument("model")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--dtype")
    parser.add_argument("--served-model-name")
    args = parser.parse_args(argv)
    mode = os.environ.get("FAKE_VLLM_MODE", "ok")
    print(f"fake vllm: {mode}", flush=True)
    if mode == "crash":
        print("ValueError: no model in that folder", flush=True)
        return 3
    if mode == "silent":
        time.sleep(3600)
    if mode == "stubborn":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"]) if mode == "worker" else None
    about = {"data": [{"id": args.served_model_name}], "argv": argv, "pid": os.getpid(),
             "worker_pid": worker.pid if worker else None,
             "env": {k: v for k, v in os.environ.items() if k.startswith("VLLM_")}}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps(about).encode()
            self.send_response(200 if self.path == "/v1/models" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    ThreadingHTTPServer((args.host, args.port), Handler).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(run_cli=fake_cli))
