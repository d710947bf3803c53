"""`avr-studio init | stats | pairs`: make a project, count what is in it, rebuild Stage I pairs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from backend.config import PairConfig


def register(subparsers: argparse._SubParsersAction) -> None:
    init = subparsers.add_parser("init", help="Create a new project folder.")
    init.add_argument("project", type=Path, metavar="DIR", help="Folder for the new project.")
    init.add_argument("--empty", action="store_true",
                      help="Start with no prompts (by default the bundled demo prompts are added, so "
                      "`generate` works at once; import your own with `avr-studio import`).")
    init.set_defaults(func=run_init)

    stats = subparsers.add_parser("stats", help="Count prompts, nodes, scores, verdicts, pairs and samples.")
    stats.add_argument("project", type=Path, metavar="DIR", help="Project folder.")
    stats.add_argument("--json", action="store_true", help="Print JSON instead of a table.")
    stats.set_defaults(func=run_stats)

    defaults = PairConfig()
    pairs = subparsers.add_parser("pairs", help="(Re)build Stage I DPO pairs and RSFT samples from the trees.")
    pairs.add_argument("project", type=Path, metavar="DIR", help="Project folder.")
    pairs.add_argument("--scorer", default=None, help="Scorer whose scores rank nodes (default: the most recent).")
    pairs.add_argument("--max-growth-chars", type=int, default=defaults.max_growth_chars,
                       help="RSFT length filter: most characters a refinement may add (default %(default)s).")
    pairs.add_argument("--max-growth-ratio", type=float, default=defaults.max_growth_ratio,
                       help="... or longest it may be, as a multiple of the original (default %(default)s).")
    pairs.add_argument("--degeneration-repeats", type=int, default=defaults.degeneration_repeats,
                       help="Drop texts where one word or symbol run repeats this often (default %(default)s).")
    pairs.set_defaults(func=run_pairs)


def run_init(args: argparse.Namespace) -> int:
    from backend.store import Store

    with Store.create(args.project) as store:
        templates = store.current_templates()
        print(f"Created project {store.project_dir}")
        print(f"  database  {store.db_path.name} (schema version {store.schema_version()})")
        for folder in (store.jobs_dir, store.runs_dir, store.exports_dir):
            print(f"  folder    {folder.name}/")
        print(f"  templates {templates.name} ({templates.version})")
        if not args.empty:
            from backend.io.importers import import_file
            from backend.resources import resource_path

            report = import_file(store, resource_path("demo", "prompts.jsonl"), format="prompts")
            print(f"  prompts   {report.new_prompts} bundled demo prompts (use --empty to start without them)")
    return 0


def _format_stats(stats: dict[str, Any]) -> str:
    lines = [f"{'prompts':<28}{stats['prompts']:>10}"]
    for title, key in (("nodes", "nodes"), ("scores", "scores"), ("verdicts", "verdicts"),
                       ("pairs", "pairs"), ("SFT samples", "sft")):
        counts = stats[key]
        lines.append(f"{title:<28}{sum(counts.values()):>10}")
        lines.extend(f"  {name:<26}{n:>10}" for name, n in counts.items())
    lines.append(f"{'chains':<28}{stats['chains']:>10}")
    if stats.get("refused_results"):
        lines.append(f"{'refused results':<28}{stats['refused_results']:>10}  (avr-studio conflicts DIR lists them)")
    return "\n".join(lines)


def run_stats(args: argparse.Namespace) -> int:
    from backend.cli.opening import open_project

    with open_project(args.project) as store:
        stats = store.stats()
        refused = store.count_slot_conflicts()
    if refused:  # results kept beside their trees because their slot was taken (`avr-studio conflicts`)
        stats["refused_results"] = refused
    print(json.dumps(stats, indent=2) if args.json else _format_stats(stats))
    return 0


def run_pairs(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from backend.cli.opening import open_project
    from backend.curation.rebuild import rebuild_stage1
    from backend.errors import BadInputError

    try:
        config = PairConfig(scorer=args.scorer, max_growth_chars=args.max_growth_chars,
                            max_growth_ratio=args.max_growth_ratio,
                            degeneration_repeats=args.degeneration_repeats)
    except ValueError as exc:
        raise BadInputError(str(exc)) from None
    with open_project(args.project) as store, tqdm(desc="trees", unit="tree", file=sys.stderr) as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        counts = rebuild_stage1(store, config, progress=progress)
    n_prompts = counts.pop("prompts", 0)
    n_rsft = counts.pop("rsft", 0)
    print(f"Rebuilt Stage I data from {n_prompts} trees:")
    for kind in ("response", "criticism", "improvement", "edit"):
        print(f"  {kind + ' pairs':<22}{counts.pop(kind, 0):>8}")
    for kind, n in sorted(counts.items()):
        print(f"  {kind + ' pairs':<22}{n:>8}")
    print(f"  {'RSFT samples':<22}{n_rsft:>8}")
    return 0
