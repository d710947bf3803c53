"""Engines and scorers keep torch, transformers, httpx and vllm out of import time (the GUI imports specs)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULES = ["backend.engines", "backend.engines.base", "backend.engines.embedded", "backend.engines.openai_engine",
           "backend.engines.transformers_engine", "backend.engines.vllm_engine", "backend.engines.vllm_server",
           "backend.engines.vllm_cpu_launcher", "backend.engines.threads", "backend.engines.packed_linear",
           "backend.engines.row_attention", "backend.engines.prefix_store", "backend.scorers",
           "backend.scorers.classifier", "backend.scorers.likelihood", "backend.scorers.relevance",
           "backend.scorers.server"]


def test_importing_engines_and_scorers_loads_no_heavy_package():
    code = ("import importlib, sys\n"
            f"for name in {MODULES!r}: importlib.import_module(name)\n"
            "print(','.join(m for m in ('torch', 'transformers', 'httpx', 'vllm') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
