"""The `sample_thoughts` job: thoughts without a final answer are sampled again (2 tries in all), every
thought is journalled with the score of its final answer, each prompt gets the method's pair (or none), a
resumed job skips the prompts it finished, and the pairs reach the store.

A real model that writes long thoughts is not available here (the tiny random model never writes
"Final answer:"), so the generator is a scripted engine and the scorer reads answers from a table; the
job, its journal, the ingest and the store are the real ones."""

import threading

from backend import protocol
from backend.avr.long_thought import format_long_thought
from backend.config import ModelSpec, SamplingConfig, ScorerSpec
from backend.domain import Prompt
from backend.engines.base import Engine, GenResult
from backend.job_requests import SampleThoughtsRequest
from backend.store import Store
from backend.training.records import THOUGHT_PAIR, pair_of
from backend.worker.context import JobContext
from backend.worker.ingest import ingest_journal
from backend.worker.jobs import common, sample_thoughts
from backend.worker.journal import read_records
from backend.worker.submission import prepare_job
from backend.worker.thought_pairs import store_thought_pairs

P1, P2 = Prompt.from_text("What is 3 times 4?"), Prompt.from_text("Name a primary colour.")


def thought(final: str) -> str:
    return format_long_thought(["A first try."], ["It can be better."], final)


class ScriptedEngine(Engine):
    """Replies per prompt id, in order; records what it was asked (prompt id, n) per call of `run`."""

    def __init__(self, replies: dict[str, list[str]]) -> None:
        self.replies = {key: iter(texts) for key, texts in replies.items()}
        self.calls: list[list[tuple[str, int]]] = []

    def run(self, source) -> None:
        asked = []
        while not source.is_done():
            for request in source.next_requests(64):
                asked.append((request.key, request.n))
                texts = [next(self.replies[request.key]) for _ in range(request.n)]
                source.on_result(GenResult(request.key, texts, tokens=len(texts)))
        self.calls.append(asked)


class TableScorer:
    def __init__(self, values: dict[str, float]) -> None:
        self.values = values

    def score(self, items):
        return [self.values[answer] for _, answer in items]


def _run(job, request, engine, scorer, monkeypatch):
    monkeypatch.setattr(common, "load_engine", lambda ctx, spec: engine)
    monkeypatch.setattr(common, "load_scorer", lambda ctx, spec: scorer)
    monkeypatch.setattr(common, "close_quietly", lambda thing: None)
    events = []
    ctx = JobContext(job.submit_message(), events.append, threading.Event())
    try:
        return sample_thoughts.run(request, ctx), events
    finally:
        ctx.close()


def test_thoughts_are_resampled_scored_paired_and_stored(tmp_path, monkeypatch):
    scores = {"12": 2.0, "Twelve.": 1.0, "13": 0.5, "It is 12, as 3 x 4 = 12.": 1.5, "Reference: 12.": 0.8,
              "Red.": 1.0, "Blue.": 1.0}
    engine = ScriptedEngine({
        P1.id: [thought("12"), "no final answer", thought("Twelve."), thought("13"), "still thinking",
                # second try for the two without a final answer: one gets one, one does not
                thought("It is 12, as 3 x 4 = 12."), "rambling again"],
        P2.id: [thought("Red."), thought("Blue."), thought("Red."), thought("Blue."), thought("Red.")],
    })
    request = SampleThoughtsRequest([P1, P2], ModelSpec(name="run:sft"), ScorerSpec(kind="likelihood"),
                                    SamplingConfig(max_new_tokens=64, seed=1), references={P1.id: "Reference: 12."})
    with Store.create(tmp_path / "project") as store:
        store.add_prompts([P1, P2])
        job = prepare_job(request, store=store)
        summary, _ = _run(job, request, engine, TableScorer(scores), monkeypatch)
        assert engine.calls == [[(P1.id, 5), (P2.id, 5)], [(P1.id, 2)]]  # one batch per try, both prompts at once
        assert summary == {"prompts": 2, "pairs": 1, "thoughts": 10}

        records = [record for _, record in read_records(job.job_dir)]
        [pair] = [pair_of(r) for r in records if pair_of(r) is not None]
        # best: "12" (2.0, beats the reference's 0.8); worst: "13" (0.5); "12" is not longer than "13"
        assert (pair.chosen, pair.rejected) == (thought("12"), thought("13"))
        assert (pair.chosen_score, pair.rejected_score, pair.kind) == (2.0, 0.5, "long_thought")
        dropped = [r for r in records if r["type"] == THOUGHT_PAIR and r["pair"] is None]
        assert [r["prompt_id"] for r in dropped] == [P2.id]  # every final answer scores the same: no pair
        node_scores = {r["node_id"]: r["value"] for r in records if r["type"] == "score"}
        assert sorted(node_scores.values()) == [0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.5, 2.0]  # not the rambling one

        ingest_journal(store, job.job_dir, job.job_id)
        assert store_thought_pairs(store, job.job_dir) == (2, 1)
        assert store_thought_pairs(store, job.job_dir) == (2, 1)  # again: nothing new
        [stored] = store.pairs(kind="long_thought")
        assert stored.id == pair.id and store.get_node(stored.chosen_node_id).text == thought("12")
        assert len([n for n in store.nodes_for_prompt(P1.id) if n.kind == "long_thought"]) == 5

        # the same job again (a resume) samples nothing for the prompts it finished
        again = ScriptedEngine({})
        summary, _ = _run(job, request, again, TableScorer(scores), monkeypatch)
        assert again.calls == [] and summary == {"prompts": 2, "pairs": 1, "thoughts": 0}


def test_the_job_reports_progress_per_prompt(tmp_path, monkeypatch):
    engine = ScriptedEngine({P1.id: [thought(f"{i}") for i in range(5)]})
    request = SampleThoughtsRequest([P1], ModelSpec(name="run:sft"), ScorerSpec(kind="likelihood"))
    job = prepare_job(request, jobs_dir=tmp_path / "jobs")
    _, events = _run(job, request, engine, TableScorer({f"{i}": float(i) for i in range(5)}), monkeypatch)
    progress = [e for e in events if isinstance(e, protocol.Progress)]
    assert (progress[0].done, progress[0].total) == (0, 1) and (progress[-1].done, progress[-1].total) == (1, 1)
