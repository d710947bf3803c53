"""Presets end to end through the CLI and a real worker on the tiny model: UltraFeedback rows give
reference answers, and `generate` grows each tree from the model's own fresh answer; every node records
the preset it was made with (the model's default, or --preset), with what the flags changed; the
preset chooses the templates."""

import json

from backend.avr.templates import DEFAULT_TEMPLATES, SMALL_MODEL_TEMPLATES
from backend.avr.tree import build_trees, first_response
from backend.cli.commands import run_command
from backend.domain import prompt_id_for
from backend.store import Store
from tests.support.tiny_models import tiny_chat_model_dir, tiny_reward_model_dir

ROWS = [("Name two uses of baking soda.", "Baking soda leavens bread and cleans ovens."),
        ("Give two tips for sleeping better.", "Keep a fixed schedule and avoid screens late.")]
FLAGS = ["--model", str(tiny_chat_model_dir()), "--scorer", f"classifier:{tiny_reward_model_dir()}",
         "--max-new-tokens", "4", "--dtype", "float32", "--device", "cpu", "--seed", "0"]


def test_trees_grow_from_the_models_answers_and_record_their_preset(tmp_path, capsys):
    project, rows = tmp_path / "project", tmp_path / "ultrafeedback.jsonl"
    rows.write_text("".join(json.dumps({"prompt": q, "chosen": [{"role": "user", "content": q},
                                                                {"role": "assistant", "content": a}]}) + "\n"
                            for q, a in ROWS), encoding="utf-8")
    assert run_command(["init", str(project), "--empty"]) == 0
    assert run_command(["import", str(project), str(rows)]) == 0
    # the tiny model never writes a rating: the paper preset (a model folder's default) needs another mode here
    assert run_command(["generate", str(project), "--where", "baking", "--rating-mode", "constrained", *FLAGS]) == 0
    assert "Preset: paper+custom(max_new_tokens=4, rating_mode=constrained)" in capsys.readouterr().err
    assert run_command(["generate", str(project), "--where", "sleeping", "--preset", "cpu-demo", *FLAGS]) == 0
    assert "Preset: cpu-demo+custom(max_new_tokens=4)" in capsys.readouterr().err

    expected = {ROWS[0][0]: ("paper+custom(max_new_tokens=4, rating_mode=constrained)", DEFAULT_TEMPLATES, 1.0),
                ROWS[1][0]: ("cpu-demo+custom(max_new_tokens=4)", SMALL_MODEL_TEMPLATES, 1.1)}
    with Store.open(project) as store:
        assert [(job.kind, job.request["prompts"]["count"]) for job in store.jobs()] == [("stage1", 1)] * 2
        for question, chosen in ROWS:
            prompt_id = prompt_id_for(question)
            label, templates, penalty = expected[question]
            nodes = store.nodes_for_prompt(prompt_id)
            root = first_response(prompt_id, build_trees(nodes, {}, {}))
            assert root is not None and root.node.model == str(tiny_chat_model_dir())  # the policy's own answer
            assert root.node.text != chosen and all(n.text != chosen for n in nodes)
            assert store.reference_answer(prompt_id).text == chosen  # the data set's answer stays a reference
            assert sorted(n.kind for n in nodes) == ["criticism"] * 2 + ["improvement"] * 4 + ["response"]
            assert {n.sampling["preset"] for n in nodes} == {label}
            assert {n.sampling["repetition_penalty"] for n in nodes} == {penalty}
            assert {n.template_version for n in nodes if n.kind != "response"} == {templates.version}
        assert sorted(job.request["sampling"]["preset"] for job in store.jobs()) == sorted(
            label for label, _, _ in expected.values())
