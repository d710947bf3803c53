"""Stage II data: long-thought SFT samples from chains (and imports), and one prompt's long-thought pair
from sampled thoughts: re-sampling without a final answer, the reference gate, best vs worst."""

from backend.avr.long_thought import format_long_thought
from backend.domain import Chain, Node, Prompt, SftSample
from backend.training.runs import prepare_run
from backend.training.stage2_data import (
    long_thought_dpo_pair,
    long_thought_samples,
    sample_with_final_answers,
)
from backend.training.trainer import train_run
from tests.training.project_data import tiny_config

PROMPT = Prompt.from_text("What is 3 times 4?")


def thought(final: str) -> str:
    return format_long_thought(["It is 7."], ["Wrong: 3 times 4 is not 7."], final)


def test_long_thought_samples_come_from_chains_and_imports(store, tiny_base):
    prompts = store.prompts_by_id(store.prompt_ids())
    made = []
    for i, prompt_id in enumerate(sorted(prompts)[:4]):
        node = Node(f"lt{i}", prompt_id, "long_thought", thought(f"answer {i}"))
        store.add_nodes([node])
        store.add_chain(Chain(f"chain{i}", prompt_id, (f"y{i}",), f"y{i}", (1.0,), long_thought_node_id=node.id))
        made.append((prompt_id, node.text))
    imported = SftSample("long_thought", made[0][0], [{"role": "user", "content": prompts[made[0][0]].text},
                                                     {"role": "assistant", "content": made[0][1]}])
    store.add_sft_samples([imported])
    samples = long_thought_samples(store)
    assert sorted((s.prompt_id, s.messages[-1]["content"]) for s in samples) == sorted(made)  # no duplicate
    assert all(s.messages[0] == {"role": "user", "content": prompts[s.prompt_id].text} for s in samples)

    prepared = prepare_run(store, tiny_config("long_sft", tiny_base, heldout_fraction=0.0, max_steps=1))
    assert prepared.snapshot.counts.train_rows == 4
    assert train_run(prepared.folder.path).status == "finished"


def test_thoughts_without_a_final_answer_are_sampled_again():
    batches = iter([[thought("12"), "no final answer", "still thinking"], ["rambling", thought("twelve")]])
    asked = []

    def sample(n):
        asked.append(n)
        return next(batches)

    got = sample_with_final_answers(sample, count=3, tries=2)
    assert asked == [3, 2]
    assert got == [thought("12"), "rambling", thought("twelve")]


def test_the_pair_is_best_against_worst_and_must_beat_the_reference():
    scores = {"12": 2.0, "It is 12, since 3 x 4 = 12.": 1.0, "13": -1.0, "Reference answer.": 0.5}
    seen = []

    def score(items):
        seen.append(items)
        return [scores[answer] for _, answer in items]

    thoughts = [thought("It is 12, since 3 x 4 = 12."), thought("12"), "no final", thought("13")]
    pair, scored = long_thought_dpo_pair(PROMPT, thoughts, score, "Reference answer.", ["a", "b", "c", "d"])
    assert len(seen) == 1 and seen[0][-1] == (PROMPT.text, "Reference answer.")  # one batch
    assert [t.score for t in scored] == [1.0, 2.0, None, -1.0]
    assert (pair.chosen, pair.rejected, pair.chosen_node_id, pair.rejected_node_id) == (thoughts[1], thoughts[3], "b", "d")
    assert pair.kind == "long_thought" and pair.context == [{"role": "user", "content": PROMPT.text}]

    scores["Reference answer."] = 2.0  # the best final answer no longer beats the reference strictly
    assert long_thought_dpo_pair(PROMPT, thoughts, score, "Reference answer.")[0] is None
    assert long_thought_dpo_pair(PROMPT, thoughts, score, None)[0] is not None  # no reference: no gate
