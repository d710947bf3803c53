"""The tiny test models load with the standard classes and generate / score."""

from tests.support.tiny_models import tiny_chat_model_dir, tiny_reward_model_dir


def test_tiny_chat_model_generates_from_a_chat_template():
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = tiny_chat_model_dir()
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    ids = tok.apply_chat_template([{"role": "user", "content": "hi"}], add_generation_prompt=True,
                                  return_tensors="pt", return_dict=True)
    out = model.generate(**ids, max_new_tokens=5, do_sample=False)
    assert out.shape[1] == ids["input_ids"].shape[1] + 5 or tok.eos_token_id in out[0].tolist()


def test_tiny_reward_model_gives_one_scalar_per_text():
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = tiny_reward_model_dir()
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder)
    batch = tok(["a good answer", "bad"], padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(**batch).logits
    assert logits.shape == (2, 1)
