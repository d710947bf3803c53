"""`avr-studio jobs | resume | conflicts | doctor`: a project's jobs, finishing an interrupted one,
results refused for full tree slots, and a check of what a crash left (and what is still readable)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from backend.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    jobs = subparsers.add_parser("jobs", help="List the project's jobs with their status and notes.")
    jobs.add_argument("project", type=Path, metavar="DIR", help="Project folder.")
    jobs.set_defaults(func=run_jobs)

    resume = subparsers.add_parser(
        "resume", help="Finish an interrupted (or failed, or cancelled) job: only what it had not done yet.")
    resume.add_argument("project", type=Path, metavar="DIR", help="Project folder.")
    resume.add_argument("job", nargs="?", default=None, metavar="JOB",
                        help="Job id (default: the most recent interrupted job).")
    resume.add_argument("--python", default=sys.executable, metavar="PATH", help="Interpreter of the worker.")
    resume.add_argument("--allow-partial", action="store_true",
                        help="Exit 0 when some model requests failed but others gave results.")
    resume.set_defaults(func=run_resume)

    conflicts = subparsers.add_parser(
        "conflicts", help="Results refused because their place in a tree was already taken, beside the nodes there.")
    conflicts.add_argument("project", type=Path, metavar="DIR", help="Project folder.")
    conflicts.set_defaults(func=run_conflicts)

    doctor = subparsers.add_parser(
        "doctor", help="Check a project after a crash: its database, jobs, journals and leftovers.",
        description="Check a project: whether its database reads, which jobs were interrupted, journal lines "
        "that were skipped, refused results. With --salvage, make a new project from what the jobs' folders "
        "hold (their prompts and every journalled node, score and chain) when the database is damaged.")
    doctor.add_argument("project", type=Path, metavar="DIR", help="Project folder.")
    doctor.add_argument("--salvage", type=Path, default=None, metavar="NEW_DIR",
                        help="Create a new project in NEW_DIR from the jobs' requests and journals.")
    doctor.set_defaults(func=run_doctor)


def _open(path: Path):
    from backend.cli.opening import open_project

    return open_project(path)


def run_jobs(args: argparse.Namespace) -> int:
    with _open(args.project) as store:
        jobs = store.jobs()
        notes = store.job_notes()
    if not jobs:
        print("No jobs yet.")
        return 0
    by_job: dict[str, list] = {}
    for note in notes:
        by_job.setdefault(note.job_id, []).append(note)
    for job in jobs:
        print(f"{job.id:<40} {job.kind:<11} {job.status:<12} {job.created_at:%Y-%m-%d %H:%M}")
        if job.error:
            print(f"    {job.error}")
        for note in by_job.get(job.id, []):
            print(f"    {note.level}: {note.text}")
    return 0


def run_resume(args: argparse.Namespace) -> int:
    from backend.cli.worker_cmds import exit_code, run_job_in_project
    from backend.worker.submission import resume_job

    with _open(args.project) as store:
        job = resume_job(store, args.job)
        print(f"Resuming job {job.job_id} ({job.kind}).", file=sys.stderr)
        outcome = run_job_in_project(store, job, args.python, f"resume {job.kind}")
    if outcome.status == "finished":
        print(f"Job {outcome.job_id} finished: {_summary_text(outcome.summary)}.")
    return exit_code(outcome, args)


def _summary_text(summary: dict) -> str:
    shown = {k: v for k, v in summary.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    return ", ".join(f"{value} {key.replace('_', ' ')}" for key, value in shown.items()) or "nothing left to do"


def run_conflicts(args: argparse.Namespace) -> int:
    with _open(args.project) as store:
        conflicts = store.slot_conflicts()
        holders = {}
        for conflict in conflicts:
            for node_id in conflict.occupants:
                holders[node_id] = holders.get(node_id) or store.get_node(node_id)
    if not conflicts:
        print("No refused results: every tree holds what its jobs produced.")
        return 0
    for conflict in conflicts:
        print(f"{conflict.kind} {conflict.node_id} of prompt {conflict.prompt_id} (job {conflict.job_id}) was "
              f"refused: {conflict.reason}.")
        print(f"  refused text: {_one_line(conflict.text)}")
        for node_id in conflict.occupants:
            node = holders.get(node_id)
            print(f"  in the tree:  {node_id}: {_one_line(node.text) if node else '(also refused)'}")
    print(f"{len(conflicts)} refused result(s).")
    return 0


def _one_line(text: str, most: int = 100) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= most else flat[: most - 3] + "..."


def run_doctor(args: argparse.Namespace) -> int:
    from backend.store import Store
    from backend.store.connection import DamagedProjectError
    from backend.worker.doctor import journal_health, salvage

    project = args.project.expanduser().resolve()
    if not Store.is_project(project):
        raise UserError(f"{project} is not an AvR Studio project (it has no project.duckdb)")
    try:
        store = _open(project)
    except DamagedProjectError as exc:
        print(f"problem: {exc}")
        store = None
    if store is not None:
        with store:
            stats = store.stats()
            print(f"ok: the database reads (schema version {store.schema_version()}): {stats['prompts']} prompts, "
                  f"{sum(stats['nodes'].values())} nodes, {sum(stats['scores'].values())} scores, "
                  f"{stats['chains']} chains")
            interrupted = [job.id for job in store.jobs() if job.status == "interrupted"]
            if interrupted:
                print(f"note: {len(interrupted)} interrupted job(s), e.g. {interrupted[-1]}: `avr-studio resume "
                      f"{project} JOB` finishes one")
            conflicts = store.count_slot_conflicts()
            if conflicts:
                print(f"note: {conflicts} refused result(s) kept beside their trees: `avr-studio conflicts {project}`")
    health = journal_health(project / "jobs")
    print(f"{'ok' if not health.bad_lines else 'note'}: {health.jobs} job folder(s), {health.records} journal "
          f"record(s) ({health.nodes} nodes, {health.scores} scores, {health.chains} chains), "
          f"{health.prompts} prompt(s) in their requests"
          + (f"; {health.bad_lines} unreadable line(s) skipped" if health.bad_lines else ""))
    if args.salvage is not None:
        report = salvage(project, args.salvage)
        print(f"salvaged into {report.project_dir}: {report.prompts} prompts, {report.objects} nodes/scores/chains "
              "from the journals (curation verdicts and edits live only in the damaged database)")
    elif store is None:
        print(f"what to do: restore project.duckdb from a backup, or `avr-studio doctor {project} --salvage NEW_DIR` "
              "to make a new project from the jobs' folders")
    return 1 if store is None and args.salvage is None else 0  # a damaged database: 1 until salvaged
