"""The out-of-the-box path with the embedded SmolLM2 model: `init` + `generate --prompts N` (slow), with
the embedded model's default preset (cpu-demo: its templates and constrained ratings)."""

from collections import Counter

import pytest

from backend.avr.templates import SMALL_MODEL_TEMPLATES
from backend.cli.commands import run_command
from backend.domain import Prompt
from backend.store import Store


@pytest.mark.slow
def test_generate_with_the_embedded_model_and_default_scorer(tmp_path, capsys):
    project = tmp_path / "demo"
    with Store.create(project) as store:
        store.add_prompts([Prompt.from_text("Name two uses of baking soda."),
                           Prompt.from_text("What is the capital of France?")])
    assert run_command(["generate", str(project), "--prompts", "2", "--max-new-tokens", "24", "--seed", "0"]) == 0
    out = capsys.readouterr()
    assert "Generated 14 nodes and 10 scores for 2 prompts" in out.out
    assert "Preset: cpu-demo+custom(max_new_tokens=24)" in out.err
    with Store.open(project) as store:
        nodes = [n for pid in store.prompt_ids() for n in store.nodes_for_prompt(pid)]
        assert Counter(n.kind for n in nodes) == {"response": 2, "criticism": 4, "improvement": 8}
        assert all(1 <= n.self_rating <= 10 for n in nodes if n.kind == "criticism")  # constrained by default
        assert {n.sampling["preset"] for n in nodes} == {"cpu-demo+custom(max_new_tokens=24)"}
        assert {n.template_version for n in nodes if n.kind != "response"} == {SMALL_MODEL_TEMPLATES.version}
        assert all(n.text.strip() for n in nodes)
        assert store.scorers() == ["likelihood:embedded"]
