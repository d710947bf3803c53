"""Explains that the bundled generator is a small 135M demo model and how to use a bigger one."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from avr_studio.dialogs import run_modal

DEMO_MODEL_NOTICE = ("Demo model: the bundled SmolLM2-135M writes fluent but shallow answers and critiques. "
                     "Use a bigger model for real data.")

DEMO_MODEL_DETAILS = """\
<p>AvR Studio ships <b>SmolLM2-135M-Instruct</b> (135 million parameters) so that it works offline
out of the box. It is a <b>demo model</b>: its answers are fluent but shallow, its criticisms have the
right shape but weak content, and it never writes the <code>Rating: [[k]]</code> line itself (the app
completes the rating for it, as a weak signal that is never used as the reward).</p>
<p>For data worth training on, use a bigger model — in <b>File → Settings → Generator model</b>:</p>
<ul>
<li><b>A local folder</b>: pick a Hugging Face model folder (e.g. a Llama-3 or Qwen instruct model),
engine <i>transformers</i>; bfloat16 on a GPU is fastest.</li>
<li><b>An OpenAI-compatible server</b>: start one, e.g.<br>
<code>vllm serve meta-llama/Meta-Llama-3-8B-Instruct --port 8000</code><br>
then choose engine <i>openai</i>, base URL <code>http://127.0.0.1:8000/v1</code> and the served
model name. Several base URLs spread the requests over replicas.</li>
</ul>
<p>Rewards come from the scorer in the same dialog: a reward-model folder or a vLLM
<code>--runner pooling --convert classify</code> server gives real reward scores; the offline
defaults (likelihood, relevance) are only rough stand-ins.</p>
"""


def show_demo_model_dialog(parent: QWidget | None = None) -> bool:
    """Show the explanation; True when the person asked to open Settings."""
    box = QMessageBox(parent)
    box.setWindowTitle("About the demo model")
    box.setIcon(QMessageBox.Icon.Information)
    box.setText(DEMO_MODEL_DETAILS)
    settings_button = box.addButton("Open Settings…", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Close)
    run_modal(box)
    return box.clickedButton() is settings_button
