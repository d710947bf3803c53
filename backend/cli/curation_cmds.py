"""`avr-studio annotate`: a person's verdict or edit on one node, headless; `avr-studio ranking-scorer`:
the project's ranking scorer, shown or switched (`backend.curation.ranking`).

It takes the same path as the app's undoable commands (`backend.curation.annotations.annotate`), so
the project's pairs follow the annotation at once, exactly as they do in the app.
"""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path

from backend.domain import CLEAR_VERDICT, REVERT_EDIT, VERDICTS
from backend.errors import BadInputError


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "unknown"


def register(subparsers: argparse._SubParsersAction) -> None:
    annotate = subparsers.add_parser(
        "annotate", help="Accept, reject or skip a node, or edit its text (the pairs follow at once).",
        description="Record one act of a person on a node. Annotations are append-only: the history keeps "
        "every one, and --clear-verdict / --revert-edit undo by appending.")
    annotate.add_argument("project", type=Path, metavar="DIR", help="Project folder.")
    annotate.add_argument("node", metavar="NODE_ID", help="The node's id (see `avr-studio export` or the app).")
    verdict = annotate.add_mutually_exclusive_group()
    verdict.add_argument("--verdict", choices=VERDICTS, help="The person's verdict on the node.")
    verdict.add_argument("--clear-verdict", action="store_true", help="Drop the node's verdict.")
    edit = annotate.add_mutually_exclusive_group()
    edit.add_argument("--edit", metavar="TEXT", help="The person's text for the node (the model's is kept).")
    edit.add_argument("--edit-file", type=Path, metavar="FILE", help="Read the person's text from FILE (UTF-8).")
    edit.add_argument("--revert-edit", action="store_true", help="Go back to the model's text.")
    annotate.add_argument("--author", default=None, help="Who annotates (default: the login name).")
    annotate.set_defaults(func=run_annotate)

    ranking = subparsers.add_parser(
        "ranking-scorer", help="Show the project's ranking scorer, or switch it (the pairs are rebuilt).",
        description="One scorer ranks every node of a project and decides the reward's pairs; jobs score with "
        "it (and any other asked for). With SCORER, rank by that scorer from now on and rebuild every "
        "prompt's pairs (the person's verdicts are kept).")
    ranking.add_argument("project", type=Path, metavar="DIR", help="Project folder.")
    ranking.add_argument("scorer", nargs="?", default=None, metavar="SCORER",
                         help="A scorer with scores in the project, e.g. relevance:embedded.")
    ranking.set_defaults(func=run_ranking_scorer)


def _edited_text(args: argparse.Namespace) -> str | None:
    if args.revert_edit:
        return REVERT_EDIT
    if args.edit_file is not None:
        try:
            text = args.edit_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInputError(f"cannot read {args.edit_file} ({exc}); give a UTF-8 text file") from None
    else:
        text = args.edit
    if text is not None and not text.strip():
        raise BadInputError("an edited text cannot be empty; use --revert-edit to go back to the model's text")
    return text


def run_annotate(args: argparse.Namespace) -> int:
    from backend.cli.opening import open_project
    from backend.curation.annotations import annotate
    from backend.domain import Annotation

    verdict = CLEAR_VERDICT if args.clear_verdict else args.verdict
    edited = _edited_text(args)
    if verdict is None and edited is None:
        raise BadInputError("say what to record: --verdict, --clear-verdict, --edit, --edit-file or --revert-edit")
    with open_project(args.project) as store:
        prompt_id = annotate(store, Annotation(args.node, verdict, edited, author=args.author or _login_name()))
        pairs = [p for p in store.pairs(prompt_id=prompt_id) if args.node in (p.chosen_node_id, p.rejected_node_id)]
    print(f"Annotated node {args.node}; it is in {len(pairs)} stored pair(s) now.")
    return 0


def run_ranking_scorer(args: argparse.Namespace) -> int:
    from backend.cli.opening import open_project
    from backend.curation.derived import switch_ranking_scorer
    from backend.curation.ranking import ranking_scorer

    with open_project(args.project) as store:
        if args.scorer is None:
            current = ranking_scorer(store)
            others = [s for s in store.scorers() if s != current]
            print(f"Ranked by {current or 'no scorer yet'}" + (f" (also scored by: {', '.join(others)})" if others else ""))
            return 0
        switch = switch_ranking_scorer(store, args.scorer)
    was = f" (was {switch.before})" if switch.before and switch.before != switch.after else ""
    print(f"Ranked by {switch.after} now{was}: rebuilt the pairs of {switch.prompts} prompts; "
          f"{switch.changed_pairs} reward-decided pairs changed ({switch.reward_pairs} in all).")
    return 0
