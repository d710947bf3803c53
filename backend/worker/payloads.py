"""Build job payloads from the project database (the worker never opens it): everything a job needs.

Prompts travel as {id, text}; the nodes and scores already stored travel too, so a job generates and
scores only what is missing (resume after a crash is just running the job again).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from backend import protocol
from backend.config import ChainConfig, ModelSpec, SamplingConfig, ScorerSpec, TreeConfig
from backend.domain import Templates
from backend.errors import UserError

STAGE1_KINDS = ("response", "criticism", "improvement")
ANSWER_KINDS = ("response", "improvement")


def select_prompts(store, limit: int | None = None, where: str | None = None) -> list[dict[str, str]]:
    """The first `limit` prompts (in the order they were added) whose text contains `where`."""
    ids = store.prompt_ids(limit=limit, where=where)
    if not ids:
        detail = f" containing {where!r}" if where else ""
        raise UserError(f"The project has no prompts{detail}. Import some first "
                        "(avr-studio import DIR FILE), or change --where.")
    by_id = store.prompts_by_id(ids)
    return [{"id": pid, "text": by_id[pid].text} for pid in ids if pid in by_id]


def templates_dict(templates: Templates) -> dict[str, str]:
    return asdict(templates)


def _common(model: ModelSpec, scorers: list[ScorerSpec], sampling: SamplingConfig, templates: Templates,
            rating_mode: str | None) -> dict[str, Any]:
    return {"model": model.to_dict(), "scorers": [s.to_dict() for s in scorers], "sampling": sampling.to_dict(),
            "templates": templates_dict(templates), "rating_mode": rating_mode or model.rating_mode}


def stage1_payload(store, prompts: list[dict[str, str]], model: ModelSpec, scorers: list[ScorerSpec],
                   tree: TreeConfig, sampling: SamplingConfig, templates: Templates,
                   rating_mode: str | None = None) -> dict[str, Any]:
    nodes, scores = [], []
    for prompt in prompts:
        stored = [n for n in store.nodes_for_prompt(prompt["id"]) if n.kind in STAGE1_KINDS and n.round == 0]
        nodes += [protocol.node_record(n) for n in stored]
        ids = {n.id for n in stored}
        for spec in scorers:
            for node_id, value in store.scores_for_prompt(prompt["id"], spec.label).items():
                if node_id in ids:
                    scores.append({"type": "score", "node_id": node_id, "scorer": spec.label, "value": value})
    return {**_common(model, scorers, sampling, templates, rating_mode), "prompts": prompts,
            "tree": tree.to_dict(), "nodes": nodes, "scores": scores}


def best_answers(store, prompt_ids: list[str], scorer: ScorerSpec) -> dict[str, dict[str, Any]]:
    """Per prompt, its best stored answer under `scorer` (a person's rejected answers are skipped);
    an unscored first response when nothing is scored yet (the chain job scores it)."""
    starts: dict[str, dict[str, Any]] = {}
    for _prompt, nodes, scores, states in store.tree_inputs(prompt_ids, scorer=scorer.label):
        answers = [n for n in nodes if n.kind in ANSWER_KINDS
                   and getattr(states.get(n.id), "verdict", None) != "reject"]
        if not answers:
            continue
        scored = [n for n in answers if n.id in scores]
        if scored:
            best = max(scored, key=lambda n: scores[n.id])
            starts[best.prompt_id] = {"node_id": best.id, "text": best.text, "score": scores[best.id]}
        else:
            first = next((n for n in answers if n.kind == "response"), answers[0])
            starts[first.prompt_id] = {"node_id": first.id, "text": first.text}
    return starts


def chain_payload(store, prompts: list[dict[str, str]], model: ModelSpec, scorer: ScorerSpec, chain: ChainConfig,
                  tree: TreeConfig, sampling: SamplingConfig, templates: Templates,
                  rating_mode: str | None = None) -> dict[str, Any]:
    starts = best_answers(store, [p["id"] for p in prompts], scorer) if chain.start == "best" else {}
    return {**_common(model, [scorer], sampling, templates, rating_mode), "prompts": prompts,
            "chain": chain.to_dict(), "tree": tree.to_dict(), "starts": starts}


def score_payload(store, prompts: list[dict[str, str]], scorer: ScorerSpec, rescore: bool = False) -> dict[str, Any]:
    """Items for every stored answer of these prompts (long thoughts by their final answer) that
    `scorer` has not scored yet (all of them with `rescore`)."""
    from backend.avr.long_thought import extract_final_answer

    items = []
    for prompt in prompts:
        done = set() if rescore else set(store.scores_for_prompt(prompt["id"], scorer.label))
        for node in store.nodes_for_prompt(prompt["id"]):
            if node.id in done:
                continue
            if node.kind in ANSWER_KINDS:
                answer = node.text
            elif node.kind == "long_thought":
                answer = extract_final_answer(node.text)
                if answer is None:
                    continue
            else:
                continue
            items.append({"node_id": node.id, "prompt": prompt["text"], "answer": answer})
    return {"scorers": [scorer.to_dict()], "items": items}


def regenerate_payload(store, criticism_id: str, model: ModelSpec, scorers: list[ScorerSpec],
                       sampling: SamplingConfig, improvements: int | None = None) -> dict[str, Any]:
    """Inputs of a `regenerate` job: the criticism's current text (the person's edit if any), the
    current text of the answer it judged, and the templates that produced the criticism."""
    crit = store.get_node(criticism_id)
    if crit is None or crit.kind != "criticism":
        raise UserError("Improvements are regenerated from a criticism; select one in the tree.")
    answer = store.get_node(crit.parent_id) if crit.parent_id else None
    if answer is None:
        raise UserError("This criticism has no stored answer to improve; regenerate the tree instead.")
    states = store.node_states(crit.prompt_id)
    prompt = store.get_prompt(crit.prompt_id)
    templates = store.templates(crit.template_version)  # an unknown version falls back to the current

    def edit_of(node) -> str | None:
        state = states.get(node.id)
        return state.edited_text if state is not None and state.edited_text else None

    return {
        "prompts": [{"id": crit.prompt_id, "text": prompt.text if prompt else ""}],
        "answer": {"id": answer.id, "text": edit_of(answer) or answer.text, "round": answer.round},
        "criticism": {"id": crit.id, "text": edit_of(crit) or crit.text, "round": crit.round,
                      "edited": edit_of(crit) is not None},
        "improvements": improvements or TreeConfig().improvements,
        "templates": templates_dict(templates),
        "model": model.to_dict(),
        "scorers": [s.to_dict() for s in scorers],
        "sampling": sampling.to_dict(),
    }
