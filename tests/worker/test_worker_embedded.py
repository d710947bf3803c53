"""The out-of-the-box path with the embedded SmolLM2 model: `init` + `generate --prompts N` (slow)."""

from collections import Counter

import pytest

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
    assert "Generated 14 nodes and 10 scores for 2 prompts" in capsys.readouterr().out
    with Store.open(project) as store:
        nodes = [n for pid in store.prompt_ids() for n in store.nodes_for_prompt(pid)]
        assert Counter(n.kind for n in nodes) == {"response": 2, "criticism": 4, "improvement": 8}
        assert all(1 <= n.self_rating <= 10 for n in nodes if n.kind == "criticism")  # constrained by default
        assert all(n.text.strip() for n in nodes)
        assert store.scorers() == ["likelihood:embedded"]
