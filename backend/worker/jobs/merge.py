"""The `merge` job: a trained run saved as a plain model folder (its base with every adapter of its chain of
runs merged in, and the tokenizer), which any tool that loads a model folder can use: vLLM, LLaMA-Factory,
transformers. A run that trained every weight is copied as it is."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from backend.errors import UserError
from backend.job_requests import MergeRequest
from backend.worker.context import JobContext


def run(request: MergeRequest, ctx: JobContext) -> dict[str, Any]:
    from backend.training.models import merge_into_folder, resolve_base

    out_dir = Path(request.out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise UserError(f"{out_dir} already exists and is not empty; choose a new folder for the merged model")
    resolved = resolve_base(f"run:{request.run_id}", request.runs_dir)
    ctx.progress.start(1, message=f"merging run {request.run_id}")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    if out_dir.exists():
        out_dir.rmdir()  # empty: the merge renames its finished folder into place
    if resolved.adapters:
        merge_into_folder(resolved, out_dir)
    else:
        shutil.copytree(resolved.folder, out_dir)
    ctx.progress.advance(1, message="merged")
    ctx.log("info", f"run {request.run_id} saved as a model folder: {out_dir}")
    return {"run_id": request.run_id, "out_dir": str(out_dir), "adapters": len(resolved.adapters)}
