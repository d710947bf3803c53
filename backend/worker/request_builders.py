"""Job requests read from the project database: the worker never opens it, so a request carries
what its job needs (`backend.job_requests`). Used alike by the CLI and the app.

Stored nodes and scores travel with a Stage I request, so a job generates and scores only what is
missing: running a job again after a crash resumes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from backend.config import ChainConfig, ModelSpec, SamplingConfig, ScorerSpec, TreeConfig
from backend.domain import STAGE1_NODE_KINDS, TREE_ANSWER_KINDS, Node, Prompt, Score, Templates, content_id
from backend.errors import UserError
from backend.job_requests import (
    ChainRequest,
    ChainStart,
    NodeText,
    RegenerateRequest,
    ScoreItem,
    ScoreRequest,
    Stage1Request,
)

R = TypeVar("R")


def checked(make: Callable[..., R], **fields) -> R:
    """Build a request (or config); its own check's message becomes a UserError for the person."""
    try:
        return make(**fields)
    except ValueError as exc:
        raise UserError(f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from None


@dataclass(frozen=True)
class GenerationChoice:
    """What a generating job uses, from a preset and a person's overrides (`generation_choice`)."""

    model: ModelSpec  # with the preset's rating mode
    sampling: SamplingConfig  # labelled with the preset (and what was changed), with the job's seed
    tree: TreeConfig  # with the preset's criticism samples (rating_retries = samples - 1)
    templates: Templates  # stored in the project when there is one, so nodes can name their version

    @property
    def preset_label(self) -> str:
        return self.sampling.preset or ""


def generation_choice(store, model: ModelSpec, preset: str | None = None, overrides: Mapping[str, Any] | None = None,
                      seed: int | None = None, tree: TreeConfig | None = None) -> GenerationChoice:
    """The one way the app and the CLI choose a job's sampling, rating mode, criticism samples and
    templates: preset `preset` (None / "auto": the model's default, `backend.presets.default_preset_for`)
    with the person's `overrides` (`backend.presets.resolve_preset`). `store` is the project (None for
    a job outside any project): its edited templates win over the preset's.

    A bad value is a UserError with the setting's own message.
    """
    from backend.presets import resolve_preset

    project_templates = store.current_templates() if store is not None else None
    settings = checked(resolve_preset, choice=preset, model_name=model.name, overrides=overrides,
                       project_templates=project_templates)
    if store is not None and settings.templates.version != project_templates.version:
        store.save_templates(settings.templates, make_current=False)  # nodes name their template version
    # resolve_preset checked the rating mode and sample count, so these replaces cannot fail
    return GenerationChoice(model=replace(model, rating_mode=settings.rating_mode),
                            sampling=replace(settings.sampling, seed=seed),
                            tree=replace(tree or TreeConfig(), rating_retries=settings.rating_retries),
                            templates=settings.templates)


def select_prompts(store, limit: int | None = None, where: str | None = None) -> list[Prompt]:
    """The first `limit` prompts (in the order they were added) whose text contains `where`."""
    ids = store.prompt_ids(limit=limit, where=where)
    if not ids:
        detail = f" containing {where!r}" if where else ""
        raise UserError(f"The project has no prompts{detail}. Import some first "
                        "(avr-studio import DIR FILE), or change --where.")
    by_id = store.prompts_by_id(ids)
    return [by_id[pid] for pid in ids if pid in by_id]


def stage1_request(store, prompts: list[Prompt], model: ModelSpec, scorers: list[ScorerSpec], tree: TreeConfig,
                   sampling: SamplingConfig, templates: Templates) -> Stage1Request:
    """Grow these prompts' round-0 trees: their stored tree nodes and scores come along as done."""
    ids = [p.id for p in prompts]
    nodes: dict[str, Node] = {}
    scores: list[Score] = []
    for spec in scorers or [None]:
        for _prompt, stored, values, _states in store.tree_inputs(ids, scorer=spec.label if spec else None):
            tree_nodes = [n for n in stored if n.kind in STAGE1_NODE_KINDS and n.round == 0]
            nodes.update((n.id, n) for n in tree_nodes)
            if spec is not None:
                scores += [Score(n.id, spec.label, values[n.id]) for n in tree_nodes if n.id in values]
    return checked(Stage1Request, prompts=prompts, templates=templates, model=model, scorers=list(scorers),
                   sampling=sampling, tree=tree, known_nodes=list(nodes.values()), known_scores=scores)


def reference_start_id(prompt_id: str, text: str) -> str:
    """The id of the node a chain job makes for a reference answer y0: the id the authors' greedy-chain
    importer gives its y0 (`backend.io.importers.common.imported_node`, position 0), so that a chain
    grown from a reference answer and one imported with the same y0 start from the same node."""
    return content_id("node", prompt_id, "response", "", 0, text, 0)


def _best_answer(nodes: list[Node], scores: dict[str, float], states) -> ChainStart | None:
    """The best stored answer under the scorer (a person's rejected answers are skipped); an unscored
    first response when nothing is scored yet (the chain job scores it); None without answers."""
    answers = [n for n in nodes if n.kind in TREE_ANSWER_KINDS
               and getattr(states.get(n.id), "verdict", None) != "reject"]
    if not answers:
        return None
    scored = [n for n in answers if n.id in scores]
    if scored:
        best = max(scored, key=lambda n: scores[n.id])
        return ChainStart(best.id, best.text, scores[best.id])
    first = next((n for n in answers if n.kind == "response"), answers[0])
    return ChainStart(first.id, first.text)


def chain_starts(store, prompt_ids: list[str], scorer: ScorerSpec, start: str) -> dict[str, ChainStart]:
    """Per prompt, its chain's y0 for `ChainConfig.start`: 'reference' takes the prompt's reference answer
    (as the AvR authors do), else its best stored answer; 'best' the best stored answer; 'sample' none.
    A prompt missing here gets a fresh answer from the model in the job."""
    if start == "sample":
        return {}
    references = store.reference_answers(prompt_ids) if start == "reference" else {}
    starts: dict[str, ChainStart] = {}
    for prompt, nodes, scores, states in store.tree_inputs(prompt_ids, scorer=scorer.label):
        reference = references.get(prompt.id)
        if reference is not None:
            node_id = reference_start_id(prompt.id, reference.text)
            starts[prompt.id] = ChainStart(node_id, reference.text, scores.get(node_id), reference=True)
            continue
        best = _best_answer(nodes, scores, states)
        if best is not None:
            starts[prompt.id] = best
    return starts


def chain_request(store, prompts: list[Prompt], model: ModelSpec, scorer: ScorerSpec, chain: ChainConfig,
                  tree: TreeConfig, sampling: SamplingConfig, templates: Templates) -> ChainRequest:
    starts = chain_starts(store, [p.id for p in prompts], scorer, chain.start)
    return checked(ChainRequest, prompts=prompts, templates=templates, model=model, scorer=scorer,
                   sampling=sampling, chain=chain, tree=tree, starts=starts)


def score_items(store, prompts: list[Prompt], scorer: ScorerSpec, rescore: bool = False) -> list[ScoreItem]:
    """Every stored answer of these prompts (a long thought by its final answer) that `scorer` has not
    scored yet (all of them with `rescore`)."""
    from backend.avr.long_thought import extract_final_answer

    texts = {p.id: p.text for p in prompts}
    items = []
    for prompt, nodes, scores, _states in store.tree_inputs(list(texts), scorer=scorer.label):
        for node in nodes:
            if node.id in scores and not rescore:
                continue
            if node.kind in TREE_ANSWER_KINDS:
                answer = node.text
            elif node.kind == "long_thought":
                answer = extract_final_answer(node.text)
                if answer is None:
                    continue
            else:
                continue
            items.append(ScoreItem(node.id, prompt.text, answer))
    return items


def score_request(store, prompts: list[Prompt], scorer: ScorerSpec, rescore: bool = False) -> ScoreRequest:
    return checked(ScoreRequest, items=score_items(store, prompts, scorer, rescore), scorer=scorer)


def regenerate_request(store, criticism_id: str, model: ModelSpec, scorers: list[ScorerSpec],
                       sampling: SamplingConfig, improvements: int | None = None) -> RegenerateRequest:
    """New improvements of a criticism: its current text (the person's edit if any), the current text
    of the answer it judged, and the templates that produced the criticism."""
    crit = store.get_node(criticism_id)
    if crit is None or crit.kind != "criticism":
        raise UserError("Improvements are regenerated from a criticism; select one in the tree.")
    answer = store.get_node(crit.parent_id) if crit.parent_id else None
    if answer is None:
        raise UserError("This criticism has no stored answer to improve; regenerate the tree instead.")
    states = store.node_states(crit.prompt_id)
    prompt = store.get_prompt(crit.prompt_id) or Prompt(crit.prompt_id, "")

    def current(node: Node) -> NodeText:
        state = states.get(node.id)
        edit = state.edited_text if state is not None and state.edited_text else None
        return NodeText(node.id, edit or node.text, node.round, edited=edit is not None)

    return checked(RegenerateRequest, prompt=prompt, answer=current(answer), criticism=current(crit),
                   templates=store.templates(crit.template_version),  # an unknown version: the current ones
                   improvements=improvements or TreeConfig().improvements, model=model, scorers=list(scorers),
                   sampling=sampling)
