"""Settings: generator model and engine, reward scorer, worker interpreter, default sampling.

Values are checked by the backend.config dataclasses; their ValueError text is shown as is,
because it already says how to fix the value.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from avr_studio.app_settings import AppSettings, save_app_settings
from avr_studio.dialogs.path_row import PathRow, folder_chooser, open_file_chooser
from backend.config import (
    EMBEDDED_MODEL,
    ENGINE_KINDS,
    RATING_MODES,
    SCORER_KINDS,
    ModelSpec,
    SamplingConfig,
    ScorerSpec,
)

DTYPES = ("bfloat16", "float32", "float16")


def _combo(items: tuple[str, ...], current: str) -> QComboBox:
    combo = QComboBox()
    combo.addItems(list(items))
    combo.setCurrentText(current)
    return combo


class SettingsDialog(QDialog):
    """Edit AppSettings; OK validates, saves to the settings file and emits sig_settings_saved."""

    sig_settings_saved = Signal(object)
    """The settings were validated and written; argument: the new AppSettings."""

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(560)
        self.saved_settings: AppSettings | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(self._build_model_group(settings.model))
        layout.addWidget(self._build_scorer_group(settings.scorer))
        layout.addWidget(self._build_sampling_group(settings.sampling))
        layout.addWidget(self._build_worker_group(settings.worker_interpreter))
        self.error_label = QLabel()
        self.error_label.setObjectName("settingsError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b00020;")
        self.error_label.hide()
        layout.addWidget(self.error_label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    # --- groups --------------------------------------------------------------------------------
    def _build_model_group(self, model: ModelSpec) -> QGroupBox:
        group = QGroupBox("Generator model")
        form = QFormLayout(group)
        self.model_name = QLineEdit(model.name)
        self.model_name.setPlaceholderText(f"{EMBEDDED_MODEL}, a model folder, or a server model name")
        form.addRow("Model", PathRow(self.model_name, folder_chooser(self, "Model folder")))
        self.engine = _combo(ENGINE_KINDS, model.engine)
        form.addRow("Engine", self.engine)
        self.base_urls = QLineEdit(" ".join(model.base_urls))
        self.base_urls.setPlaceholderText("http://127.0.0.1:8000/v1 (several: separate with spaces)")
        form.addRow("Server base URLs", self.base_urls)
        self.dtype = _combo(DTYPES, model.dtype)
        form.addRow("Dtype", self.dtype)
        self.rating_mode = _combo(RATING_MODES, model.rating_mode)
        self.rating_mode.setToolTip(ModelSpec.__dataclass_fields__["rating_mode"].metadata["help"])
        form.addRow("Rating mode", self.rating_mode)
        self._model_rest = {k: v for k, v in model.to_dict().items()
                            if k not in ("name", "engine", "base_urls", "dtype", "rating_mode")}
        return group

    def _build_scorer_group(self, scorer: ScorerSpec) -> QGroupBox:
        group = QGroupBox("Reward scorer")
        form = QFormLayout(group)
        self.scorer_kind = _combo(SCORER_KINDS, scorer.kind)
        self.scorer_kind.setToolTip(ScorerSpec.__dataclass_fields__["kind"].metadata["help"])
        form.addRow("Kind", self.scorer_kind)
        self.scorer_model = QLineEdit(scorer.model)
        form.addRow("Model", PathRow(self.scorer_model, folder_chooser(self, "Reward model folder")))
        self.scorer_url = QLineEdit(scorer.base_url)
        self.scorer_url.setPlaceholderText("http://127.0.0.1:8001 (kind = server)")
        form.addRow("Server base URL", self.scorer_url)
        self._scorer_rest = {k: v for k, v in scorer.to_dict().items() if k not in ("kind", "model", "base_url")}
        return group

    def _build_sampling_group(self, sampling: SamplingConfig) -> QGroupBox:
        group = QGroupBox("Default sampling (paper: temperature 0.7, top-p 0.8)")
        form = QFormLayout(group)
        self.temperature = QDoubleSpinBox(decimals=2, minimum=-1.0, maximum=5.0, singleStep=0.05)
        self.temperature.setValue(sampling.temperature)
        form.addRow("Temperature", self.temperature)
        # The range is wider than valid on purpose: the config's message explains a bad value
        # better than a spin box that silently clamps it.
        self.top_p = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=2.0, singleStep=0.05)
        self.top_p.setValue(sampling.top_p)
        form.addRow("Top-p", self.top_p)
        self.max_new_tokens = QSpinBox(minimum=0, maximum=32768, singleStep=64)
        self.max_new_tokens.setValue(sampling.max_new_tokens)
        form.addRow("Max new tokens", self.max_new_tokens)
        self._sampling_rest = {k: v for k, v in sampling.to_dict().items()
                               if k not in ("temperature", "top_p", "max_new_tokens")}
        return group

    def _build_worker_group(self, interpreter: str) -> QGroupBox:
        group = QGroupBox("Worker")
        form = QFormLayout(group)
        self.worker_interpreter = QLineEdit(interpreter)
        self.worker_interpreter.setPlaceholderText("empty = this app's Python; e.g. a vLLM venv's bin/python")
        form.addRow("Interpreter", PathRow(self.worker_interpreter,
                                           open_file_chooser(self, "Python interpreter for the worker")))
        return group

    # --- validation ----------------------------------------------------------------------------
    def settings_from_fields(self) -> AppSettings:
        """Build AppSettings from the fields; raises ValueError with the config's message."""
        model = ModelSpec(
            name=self.model_name.text().strip() or EMBEDDED_MODEL, engine=self.engine.currentText(),
            base_urls=self.base_urls.text().replace(",", " ").split(), dtype=self.dtype.currentText(),
            rating_mode=self.rating_mode.currentText(), **self._model_rest)
        scorer = ScorerSpec(kind=self.scorer_kind.currentText(), model=self.scorer_model.text().strip(),
                            base_url=self.scorer_url.text().strip(), **self._scorer_rest)
        sampling = SamplingConfig(temperature=round(self.temperature.value(), 4),
                                  top_p=round(self.top_p.value(), 4),
                                  max_new_tokens=self.max_new_tokens.value(), **self._sampling_rest)
        result = AppSettings(model=model, scorer=scorer, sampling=sampling,
                             worker_interpreter=self.worker_interpreter.text().strip())
        result.validate()
        return result

    def accept(self) -> None:
        try:
            new_settings = self.settings_from_fields()
        except ValueError as exc:
            self.error_label.setText(str(exc))
            self.error_label.show()
            return
        save_app_settings(new_settings)
        self.saved_settings = new_settings
        self.sig_settings_saved.emit(new_settings)
        super().accept()
