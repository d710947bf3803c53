"""Settings dialog: each bad value shows, as it is typed, the message of the code that checks it
everywhere (the config dataclasses, the presets) under its own field, and OK stays disabled; good values
are written under the data dir and come back on the next load; a preset fills the generation values and
what a person changes is recorded with it; the app's jobs and the CLI get the same settings from one
preset code; the main window follows the change."""

import pytest
from PySide6.QtCore import Qt

from avr_studio.app import build_shell
from avr_studio.app_settings import AppSettings, load_app_settings, save_app_settings
from avr_studio.dialogs.settings_dialog import SettingsDialog
from backend.avr.templates import DEFAULT_TEMPLATES, SMALL_MODEL_TEMPLATES
from backend.config import EMBEDDED_MODEL, ModelSpec, SamplingConfig, ScorerSpec
from backend.paths import data_dir
from backend.presets import resolve_preset
from tests.gui.screens import save_screenshot
from tests.support.tiny_models import tiny_chat_model_dir

pytestmark = pytest.mark.usefixtures("own_data_dir")


@pytest.fixture
def dialog(qtbot):
    widget = SettingsDialog(load_app_settings())
    qtbot.addWidget(widget)
    widget.show()
    return widget


def type_into(qtbot, spin_box, text):
    """Replace a spin box's text by typing, as a person does."""
    spin_box.setFocus()
    spin_box.selectAll()
    qtbot.keyClicks(spin_box, text)


def test_a_bad_value_is_explained_under_its_field_as_it_is_typed_and_ok_waits(dialog, qtbot):
    assert dialog.ok_button.isEnabled() and not any(label.isVisible() for label in dialog.field_errors.values())

    type_into(qtbot, dialog.temperature, "-1")

    error = dialog.field_errors["temperature"]
    assert error.isVisible() and error.text() == SamplingConfig.problems_of({"temperature": -1})["temperature"]
    assert not dialog.ok_button.isEnabled()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)  # a disabled OK does nothing
    assert dialog.isVisible() and not (data_dir() / "settings.ini").exists()
    save_screenshot(dialog, "settings_bad_temperature")

    type_into(qtbot, dialog.temperature, "0.7")
    assert not error.isVisible() and dialog.ok_button.isEnabled()


@pytest.mark.parametrize(("change", "field", "message"), [
    (lambda d: d.max_new_tokens.setValue(0), "max_new_tokens",
     SamplingConfig.problems_of({"max_new_tokens": 0})["max_new_tokens"]),
    (lambda d: d.top_p.setValue(1.5), "top_p", SamplingConfig.problems_of({"top_p": 1.5})["top_p"]),
    (lambda d: d.repetition_penalty.setValue(0.0), "repetition_penalty",
     SamplingConfig.problems_of({"repetition_penalty": 0.0})["repetition_penalty"]),
    (lambda d: d.criticism_samples.setValue(0), "criticism_samples", "criticism_samples must be a whole number of "
                                                                      "at least 1 (the paper samples a criticism up "
                                                                      "to 5 times for a rating), not 0"),
    (lambda d: d.engine.setCurrentText("openai"), "model.base_urls",
     ModelSpec.problems_of({"engine": "openai"})["base_urls"]),
    (lambda d: d.base_urls.setText("127.0.0.1:8000/v1"), "model.base_urls",
     ModelSpec.problems_of({"base_urls": ["127.0.0.1:8000/v1"]})["base_urls"]),
    (lambda d: d.timeout.setValue(0), "model.timeout_s", ModelSpec.problems_of({"timeout_s": 0})["timeout_s"]),
    (lambda d: d.scorer_kind.setCurrentText("server"), "scorer.base_url",
     ScorerSpec.problems_of({"kind": "server"})["base_url"]),
    (lambda d: d.worker_interpreter.setText("/nowhere/bin/python"), "worker_interpreter",
     "worker interpreter not found: /nowhere/bin/python (leave it empty to use the app's own Python)"),
])
def test_each_setting_is_checked_by_its_own_code(dialog, change, field, message):
    change(dialog)
    shown = {name: label.text() for name, label in dialog.field_errors.items() if label.isVisible()}
    assert shown == {field: message}
    assert not dialog.ok_button.isEnabled()
    dialog.accept()  # even when called directly, nothing is saved
    assert dialog.isVisible() and not (data_dir() / "settings.ini").exists()


def test_no_cap_is_a_choice_of_its_own_and_zero_is_refused(dialog, qtbot):
    dialog.max_new_tokens.setValue(0)
    assert dialog.field_errors["max_new_tokens"].isVisible()
    qtbot.mouseClick(dialog.no_token_cap, Qt.MouseButton.LeftButton)
    assert dialog.no_token_cap.isChecked() and not dialog.max_new_tokens.isEnabled()
    assert not dialog.field_errors["max_new_tokens"].isVisible() and dialog.ok_button.isEnabled()
    assert dialog.settings_from_fields().sampling.max_new_tokens is None


def test_a_preset_fills_the_generation_values_and_a_change_is_recorded_with_it(dialog, qtbot):
    assert dialog.preset.currentText() == "auto" and dialog.recorded_as.text() == "cpu-demo"  # the embedded model
    assert dialog.max_new_tokens.value() == 256 and dialog.rating_mode.currentText() == "constrained"

    dialog.preset.setCurrentText("paper")
    assert dialog.no_token_cap.isChecked() and dialog.repetition_penalty.value() == 1.0
    assert (dialog.rating_mode.currentText(), dialog.criticism_samples.value()) == ("drop", 5)
    assert dialog.recorded_as.text() == "paper"

    type_into(qtbot, dialog.temperature, "0.9")
    assert dialog.recorded_as.text() == "paper+custom(temperature=0.9)"
    save_screenshot(dialog, "settings_paper_custom")
    with qtbot.waitSignal(dialog.sig_settings_saved):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    loaded = load_app_settings()
    assert loaded.preset == "paper"
    choice = loaded.generation_choice(None)
    assert choice.sampling.preset == "paper+custom(temperature=0.9)" and choice.sampling.max_new_tokens is None
    assert (choice.model.rating_mode, choice.tree.rating_retries, choice.templates) == ("drop", 4, DEFAULT_TEMPLATES)


def test_auto_follows_the_model_but_keeps_what_the_person_changed(dialog, qtbot):
    type_into(qtbot, dialog.temperature, "1.1")
    dialog.model_name.setText("/models/llama-3-8b-instruct")  # auto: now the paper preset
    assert dialog.no_token_cap.isChecked() and dialog.repetition_penalty.value() == 1.0
    assert dialog.rating_mode.currentText() == "drop" and dialog.temperature.value() == 1.1
    assert dialog.recorded_as.text() == "paper+custom(temperature=1.1)"
    assert "paper (auto)" in dialog.preset_description.text()


def test_good_values_are_saved_and_load_back(dialog, qtbot):
    dialog.model_name.setText("my-served-model")
    dialog.engine.setCurrentText("openai")
    dialog.base_urls.setText("http://127.0.0.1:8000/v1, http://127.0.0.1:8001/v1")
    dialog.dtype.setCurrentText("float32")
    dialog.timeout.setValue(300)
    dialog.rating_mode.setCurrentText("none")
    dialog.scorer_kind.setCurrentText("server")
    dialog.scorer_url.setText("http://127.0.0.1:8002")
    dialog.temperature.setValue(0.9)
    dialog.top_p.setValue(0.95)
    dialog.no_token_cap.setChecked(False)
    dialog.max_new_tokens.setValue(512)
    dialog.criticism_samples.setValue(3)

    with qtbot.waitSignal(dialog.sig_settings_saved) as saved:
        dialog.accept()

    assert not dialog.isVisible()
    assert (data_dir() / "settings.ini").is_file()
    loaded = load_app_settings()
    assert loaded == saved.args[0]
    assert loaded.model.name == "my-served-model" and loaded.model.engine == "openai"
    assert loaded.model.base_urls == ["http://127.0.0.1:8000/v1", "http://127.0.0.1:8001/v1"]
    assert loaded.model.dtype == "float32" and loaded.model.rating_mode == "none" and loaded.model.timeout_s == 300
    assert loaded.scorer.kind == "server" and loaded.scorer.base_url == "http://127.0.0.1:8002"
    assert (loaded.sampling.temperature, loaded.sampling.top_p, loaded.sampling.max_new_tokens) == (0.9, 0.95, 512)
    assert (loaded.preset, loaded.criticism_samples) == ("auto", 3)


def test_the_app_and_the_cli_choose_the_same_generation_settings(tmp_path):
    """A person's Settings and the same choices as CLI flags give one model, sampling, tree and templates."""
    from backend.cli.commands import build_parser
    from backend.cli.worker_cmds import generation, model_spec
    from backend.store import Store

    folder = "/models/llama-3-8b-instruct"
    settings = AppSettings(model=ModelSpec(name=folder, rating_mode="constrained"),
                           sampling=SamplingConfig(temperature=0.9, top_p=0.8, max_new_tokens=None,
                                                   repetition_penalty=1.0, seed=4), preset="paper")
    args = build_parser().parse_args(["generate", str(tmp_path / "p"), "--model", folder, "--preset", "paper",
                                      "--temperature", "0.9", "--rating-mode", "constrained", "--seed", "4"])
    with Store.create(tmp_path / "p") as store:
        app, cli = settings.generation_choice(store), generation(args, model_spec(args), store)
    assert app == cli
    assert app.sampling.preset == "paper+custom(temperature=0.9, rating_mode=constrained)"

    demo = AppSettings().generation_choice(None)  # the embedded model's defaults: the cpu-demo preset as it is
    assert demo.sampling.preset == "cpu-demo" and demo.templates == SMALL_MODEL_TEMPLATES
    assert demo.sampling == resolve_preset("cpu-demo", EMBEDDED_MODEL).sampling


def test_a_corrupt_settings_file_falls_back_to_defaults():
    (data_dir() / "settings.ini").write_text('[General]\nsampling="{\\"top_p\\": 7}"\ngeneration="{\\"preset\\": 3}"\n',
                                             encoding="utf-8")
    loaded = load_app_settings()
    assert loaded.sampling.top_p == 0.8 and loaded.preset == "auto"


def test_a_stored_preset_comes_back_into_the_dialog(qtbot):
    save_app_settings(AppSettings(preset="cpu-demo", criticism_samples=2))
    widget = SettingsDialog(load_app_settings())
    qtbot.addWidget(widget)
    assert (widget.preset.currentText(), widget.criticism_samples.value()) == ("cpu-demo", 2)
    assert widget.recorded_as.text() == "cpu-demo+custom(criticism_samples=2)"


def test_choosing_a_bigger_model_hides_the_demo_notice(qtbot, monkeypatch):
    model_folder = str(tiny_chat_model_dir())
    shell = build_shell(AppSettings())
    qtbot.addWidget(shell.window)
    shell.window.show()
    assert shell.window.demo_bar.isVisible()
    opened = []

    def fake_exec(self):
        opened.append(self)
        save_screenshot(self, "settings_dialog")
        self.model_name.setText(model_folder)
        self.accept()

    monkeypatch.setattr(SettingsDialog, "exec", fake_exec)
    shell.window.actions_by_id["file.settings"].trigger()

    assert len(opened) == 1
    assert not shell.window.demo_bar.isVisible()
    assert load_app_settings().model.name == model_folder
    assert shell.controller.settings.model.name != EMBEDDED_MODEL


@pytest.mark.parametrize("installed", [True, False])
def test_the_vllm_engine_is_offered_only_where_it_is_installed(qtbot, monkeypatch, installed):
    from avr_studio.dialogs import settings_dialog

    monkeypatch.setattr(settings_dialog, "vllm_installed", lambda: installed)
    widget = SettingsDialog(load_app_settings())
    qtbot.addWidget(widget)
    index = widget.engine.findText("vllm")
    assert widget.engine.model().item(index).isEnabled() == installed
    tip = widget.engine.itemData(index, Qt.ItemDataRole.ToolTipRole)
    assert ("scripts/setup --vllm" in tip) != installed
    # the same hint in words on the dialog, for a person who never hovers
    assert ("scripts/setup --vllm" in widget.engine_note.text()) != installed
    assert widget.engine_note.isHidden() == installed
    widget.engine.setFocus()
    qtbot.keyClick(widget.engine, Qt.Key.Key_End)  # the last choice a person can reach with the keys
    assert widget.engine.currentText() == ("vllm" if installed else "openai")


def test_a_stored_vllm_choice_stays_visible_where_vllm_is_missing(qtbot, monkeypatch):
    from avr_studio.dialogs import settings_dialog

    monkeypatch.setattr(settings_dialog, "vllm_installed", lambda: False)
    settings = load_app_settings()
    settings.model = ModelSpec(name=EMBEDDED_MODEL, engine="vllm")
    widget = SettingsDialog(settings)
    qtbot.addWidget(widget)
    assert widget.engine.currentText() == "vllm"
    assert widget.engine.model().item(widget.engine.currentIndex()).isEnabled()
    assert "vLLM is not installed here" in widget.engine_note.text()
    widget.engine.setCurrentText("transformers")
    assert widget.engine_note.text().startswith("vllm: not installed")


def test_a_model_folder_that_cannot_load_is_named_before_ok(dialog, qtbot, tmp_path):
    dialog.model_name.setText(str(tmp_path / "no-such-model"))
    assert "does not exist" in dialog.field_errors["model.name"].text()
    assert not dialog.ok_button.isEnabled()
    (tmp_path / "empty").mkdir()
    dialog.model_name.setText(str(tmp_path / "empty"))
    assert "no config.json" in dialog.field_errors["model.name"].text()
    dialog.engine.setCurrentText("openai")  # a server's model name is for the server to judge
    dialog.base_urls.setText("http://127.0.0.1:8000/v1")
    assert dialog.field_errors["model.name"].isHidden() and dialog.ok_button.isEnabled()
    dialog.engine.setCurrentText("transformers")
    dialog.model_name.setText(str(tiny_chat_model_dir()))
    assert dialog.field_errors["model.name"].isHidden() and dialog.ok_button.isEnabled()

    dialog.scorer_kind.setCurrentText("classifier")  # its model 'embedded' is no reward model folder
    assert "does not exist" in dialog.field_errors["scorer.model"].text()
    assert not dialog.ok_button.isEnabled()
    dialog.scorer_kind.setCurrentText("likelihood")
    assert dialog.ok_button.isEnabled()
