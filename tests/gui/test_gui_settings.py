"""Settings dialog: bad values show the config's own message and save nothing; good values are
written under the data dir and come back on the next load; the main window follows the change."""

import pytest

from avr_studio.app import build_shell
from avr_studio.app_settings import AppSettings, load_app_settings
from avr_studio.dialogs.settings_dialog import SettingsDialog
from backend.config import EMBEDDED_MODEL
from backend.paths import data_dir
from tests.gui.screens import save_screenshot

pytestmark = pytest.mark.usefixtures("own_data_dir")


@pytest.fixture
def dialog(qtbot):
    widget = SettingsDialog(load_app_settings())
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_a_bad_top_p_shows_the_configs_message_and_saves_nothing(dialog):
    dialog.top_p.setValue(1.5)

    dialog.accept()

    assert dialog.isVisible()
    assert dialog.error_label.isVisible()
    assert dialog.error_label.text() == "top_p must be in (0, 1]; the paper uses 0.8"
    assert not (data_dir() / "settings.ini").exists()
    save_screenshot(dialog, "settings_bad_top_p")


def test_an_openai_engine_without_base_url_is_explained(dialog):
    dialog.engine.setCurrentText("openai")
    dialog.base_urls.setText("")
    dialog.accept()
    assert "needs at least one base URL" in dialog.error_label.text()


def test_a_missing_worker_interpreter_is_explained(dialog, tmp_path):
    dialog.worker_interpreter.setText(str(tmp_path / "nope" / "python"))
    dialog.accept()
    assert "worker interpreter not found" in dialog.error_label.text()


def test_good_values_are_saved_and_load_back(dialog, qtbot):
    dialog.model_name.setText("my-served-model")
    dialog.engine.setCurrentText("openai")
    dialog.base_urls.setText("http://127.0.0.1:8000/v1, http://127.0.0.1:8001/v1")
    dialog.dtype.setCurrentText("float32")
    dialog.rating_mode.setCurrentText("none")
    dialog.scorer_kind.setCurrentText("server")
    dialog.scorer_url.setText("http://127.0.0.1:8002")
    dialog.temperature.setValue(0.9)
    dialog.top_p.setValue(0.95)
    dialog.max_new_tokens.setValue(512)

    with qtbot.waitSignal(dialog.sig_settings_saved) as saved:
        dialog.accept()

    assert not dialog.isVisible()
    assert (data_dir() / "settings.ini").is_file()
    loaded = load_app_settings()
    assert loaded == saved.args[0]
    assert loaded.model.name == "my-served-model" and loaded.model.engine == "openai"
    assert loaded.model.base_urls == ["http://127.0.0.1:8000/v1", "http://127.0.0.1:8001/v1"]
    assert loaded.model.dtype == "float32" and loaded.model.rating_mode == "none"
    assert loaded.scorer.kind == "server" and loaded.scorer.base_url == "http://127.0.0.1:8002"
    assert (loaded.sampling.temperature, loaded.sampling.top_p, loaded.sampling.max_new_tokens) == (0.9, 0.95, 512)


def test_a_corrupt_settings_file_falls_back_to_defaults():
    (data_dir() / "settings.ini").write_text('[General]\nsampling="{\\"top_p\\": 7}"\n', encoding="utf-8")
    assert load_app_settings().sampling.top_p == 0.8


def test_choosing_a_bigger_model_hides_the_demo_notice(qtbot, monkeypatch):
    shell = build_shell(AppSettings())
    qtbot.addWidget(shell.window)
    shell.window.show()
    assert shell.window.demo_bar.isVisible()
    opened = []

    def fake_exec(self):
        opened.append(self)
        save_screenshot(self, "settings_dialog")
        self.model_name.setText("/models/llama-3-8b-instruct")
        self.accept()

    monkeypatch.setattr(SettingsDialog, "exec", fake_exec)
    shell.window.actions_by_id["file.settings"].trigger()

    assert len(opened) == 1
    assert not shell.window.demo_bar.isVisible()
    assert load_app_settings().model.name == "/models/llama-3-8b-instruct"
    assert shell.controller.settings.model.name != EMBEDDED_MODEL
