"""What a project's job folders still hold when its database is damaged, and a new project made from
them: the prompts every job's request carried and every node, score and chain its journal recorded."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from backend import protocol
from backend.worker.context import read_request
from backend.worker.journal import read_records


@dataclass
class JournalHealth:
    jobs: int = 0
    records: int = 0
    nodes: int = 0
    scores: int = 0
    chains: int = 0
    bad_lines: int = 0
    prompts: int = 0  # distinct prompts the requests carried


@dataclass
class Salvage:
    project_dir: Path
    prompts: int
    objects: int


def _job_dirs(jobs_dir: Path) -> list[Path]:
    return sorted(d for d in jobs_dir.iterdir() if d.is_dir()) if jobs_dir.is_dir() else []


def _request_prompts(job_dir: Path) -> list:
    try:
        request = read_request(job_dir)
    except protocol.ProtocolError:
        return []
    return list(getattr(request, "prompts", None) or [])


def journal_health(jobs_dir: Path) -> JournalHealth:
    """Counts over every job folder's journal and request (read only)."""
    health = JournalHealth()
    prompt_ids: set[str] = set()
    for job_dir in _job_dirs(jobs_dir):
        health.jobs += 1
        prompt_ids.update(p.id for p in _request_prompts(job_dir))

        def bad(_line) -> None:
            health.bad_lines += 1

        for _, record in read_records(job_dir, on_bad=bad):
            health.records += 1
            kind = record.get("type")
            health.nodes += kind == "node"
            health.scores += kind == "score"
            health.chains += kind == "chain"
    health.prompts = len(prompt_ids)
    return health


def salvage(project_dir: Path, new_dir: Path) -> Salvage:
    """A new project in `new_dir` with the prompts of the jobs' requests and their journals' records."""
    import shutil

    from backend.store import Store
    from backend.worker.ingest import ingest_journal

    prompts = {}
    for job_dir in _job_dirs(project_dir / "jobs"):
        for prompt in _request_prompts(job_dir):
            prompts.setdefault(prompt.id, prompt)
    objects = 0
    with Store.create(new_dir) as store:
        store.add_prompts(list(prompts.values()))
        for job_dir in _job_dirs(project_dir / "jobs"):
            copy = store.jobs_dir / job_dir.name
            shutil.copytree(job_dir, copy, ignore=shutil.ignore_patterns("worker.lock"))
            objects += ingest_journal(store, copy, job_dir.name)
        return Salvage(store.project_dir, len(prompts), objects)
