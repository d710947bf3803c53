"""The Training panel's settings: stage, base model, preset, the numbers that matter (epochs, learning rate,
β, max length) and, behind "Advanced", the rest. Empty numbers take the preset's value, which the fields show
as their placeholder; `options()` turns the fields into the `StageOptions` the CLI's flags make too."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from backend.config import EMBEDDED_MODEL
from backend.training.config import PRESETS, SFT_LOSS_TURNS, STAGE_PHASES, preset_defaults
from backend.worker.training_stages import StageOptions

STAGES = (("1", "Stage I — RSFT, new trees, DPO"), ("2", "Stage II — chains, long-thought SFT, sampled thoughts, DPO"),
          ("reward", "Reward model from your verdicts"))


def _optional_int(maximum: int, special: str) -> QSpinBox:
    """A whole number where 0 shows `special` (take the preset's value)."""
    box = QSpinBox()
    box.setRange(0, maximum)
    box.setSpecialValueText(special)
    return box


class TrainingForm(QWidget):
    sig_options_changed = Signal()
    """A field changed: the plan (counts, estimate) should be computed again."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.stage = QComboBox()
        for key, title in STAGES:
            self.stage.addItem(title, key)
        self.base = QComboBox()
        self.base.setEditable(True)
        self.base.setToolTip("The model to start from: the embedded model, a model folder, or a finished run "
                             "(run:<id>; Stage II starts from the latest Stage I model)")
        self.preset = QComboBox()
        self.preset.addItems(list(PRESETS))
        self.epochs = QDoubleSpinBox()
        self.epochs.setRange(0.0, 100.0)
        self.epochs.setSingleStep(0.5)
        self.learning_rate = QLineEdit()
        self.beta = QDoubleSpinBox()
        self.beta.setRange(0.01, 10.0)
        self.beta.setSingleStep(0.05)
        self.beta.setValue(0.1)
        self.beta.setToolTip("DPO β: how far the policy may move from its reference (0.1 is usual)")
        self.max_length = _optional_int(32768, "")

        form = QFormLayout()
        form.addRow("Stage", self.stage)
        form.addRow("Base model", self.base)
        form.addRow("Preset", self.preset)
        form.addRow("Epochs", self.epochs)
        form.addRow("Learning rate", self.learning_rate)
        form.addRow("β (DPO)", self.beta)
        form.addRow("Max length", self.max_length)

        self.advanced_button = QToolButton(text="Advanced ▸")
        self.advanced_button.setCheckable(True)
        self.advanced_button.setAutoRaise(True)
        self.advanced = QWidget()
        self.max_steps = _optional_int(1_000_000, "by epochs")
        self.batch_size = _optional_int(1024, "")
        self.gradient_accumulation = _optional_int(1024, "")
        self.checkpoint_steps = _optional_int(100_000, "")
        self.lora = QComboBox()
        self.lora.addItems(["preset", "LoRA", "full fine-tuning"])
        self.lora_r = QSpinBox()
        self.lora_r.setRange(1, 1024)
        self.lora_r.setValue(16)
        self.sft_loss_turns = QComboBox()
        self.sft_loss_turns.addItems(list(SFT_LOSS_TURNS))
        self.sft_loss_turns.setToolTip("SFT loss on every assistant turn (LLaMA-Factory's default, as the authors "
                                       "trained) or on the last one only")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(42)
        self.generate = QCheckBox("Generate between the phases (Stage I: new trees by the RSFT model; Stage II: "
                                  "greedy chains by the Stage I model)")
        self.generate.setChecked(True)
        self.generation_prompts = QSpinBox()
        self.generation_prompts.setRange(1, 100_000)
        self.generation_prompts.setValue(16)
        self.fresh = QCheckBox("New round: train again even where a run with these settings and data finished")
        advanced = QFormLayout(self.advanced)
        advanced.addRow("Max steps", self.max_steps)
        advanced.addRow("Batch size", self.batch_size)
        advanced.addRow("Gradient accumulation", self.gradient_accumulation)
        advanced.addRow("Checkpoint every", self.checkpoint_steps)
        advanced.addRow("Weights", self.lora)
        advanced.addRow("LoRA rank", self.lora_r)
        advanced.addRow("SFT loss on", self.sft_loss_turns)
        advanced.addRow("Seed", self.seed)
        advanced.addRow(self.generate)
        advanced.addRow("Prompts to generate on", self.generation_prompts)
        advanced.addRow(self.fresh)
        self.advanced.setVisible(False)
        self.advanced_button.toggled.connect(self._show_advanced)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.advanced_button)
        layout.addWidget(self.advanced)

        self.stage.currentIndexChanged.connect(self._show_preset_values)
        self.preset.currentIndexChanged.connect(self._show_preset_values)
        for signal in (self.stage.currentIndexChanged, self.base.currentTextChanged, self.preset.currentIndexChanged,
                       self.epochs.valueChanged, self.learning_rate.textChanged, self.beta.valueChanged,
                       self.max_length.valueChanged, self.max_steps.valueChanged, self.batch_size.valueChanged,
                       self.gradient_accumulation.valueChanged, self.checkpoint_steps.valueChanged,
                       self.lora.currentIndexChanged, self.lora_r.valueChanged, self.sft_loss_turns.currentIndexChanged,
                       self.seed.valueChanged, self.generate.toggled, self.generation_prompts.valueChanged,
                       self.fresh.toggled):
            signal.connect(lambda *_: self.sig_options_changed.emit())
        self._show_preset_values()

    def _show_advanced(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advanced_button.setText("Advanced ▾" if shown else "Advanced ▸")

    def _show_preset_values(self) -> None:
        """Each empty number shows what the preset will use (for the stage's first trainer)."""
        first = STAGE_PHASES[self.stage.currentData()][0]
        values = preset_defaults(self.preset.currentText(), first)
        self.epochs.setSpecialValueText(f"preset ({values['epochs']:g})")
        self.learning_rate.setPlaceholderText(f"preset ({values['learning_rate']:g} for {first})")
        self.max_length.setSpecialValueText(f"preset ({values['max_length']})")
        self.batch_size.setSpecialValueText(f"preset ({values['batch_size']})")
        self.gradient_accumulation.setSpecialValueText(f"preset ({values['gradient_accumulation']})")
        self.checkpoint_steps.setSpecialValueText(f"preset ({values['checkpoint_steps']} steps)")

    def set_bases(self, names: list[tuple[str, str]], default: str) -> None:
        """The base models offered ((name, description)); `default` is selected (typed text is kept)."""
        self.base.blockSignals(True)
        self.base.clear()
        for name, description in [(EMBEDDED_MODEL, "the embedded demo model"), *names]:
            self.base.addItem(name, name)
            self.base.setItemData(self.base.count() - 1, description, Qt.ItemDataRole.ToolTipRole)
        self.base.blockSignals(False)
        self.set_base(default)

    def set_base(self, name: str) -> None:
        index = self.base.findData(name)
        if index >= 0:
            self.base.setCurrentIndex(index)
        else:
            self.base.setEditText(name)

    def base_name(self) -> str:
        """The chosen model: an offered one, or the typed text (a model folder)."""
        return self.base.currentText().strip()

    def settings(self) -> dict:
        """The TrainingConfig fields set here (an empty number is left to the preset)."""
        values: dict = {}
        if self.epochs.value() > 0:
            values["epochs"] = self.epochs.value()
        text = self.learning_rate.text().strip()
        if text:
            try:
                values["learning_rate"] = float(text)
            except ValueError:
                raise ValueError(f"learning rate must be a number such as 5e-5, not {text!r}") from None
        for name in ("max_length", "max_steps", "batch_size", "gradient_accumulation", "checkpoint_steps"):
            value = getattr(self, name).value()
            if value > 0:
                values[name] = value
        if self.lora.currentIndex() > 0:
            values["lora"] = self.lora.currentIndex() == 1
        if self.lora_r.value() != 16:
            values["lora_r"] = self.lora_r.value()
            values["lora_alpha"] = 2 * self.lora_r.value()
        if self.sft_loss_turns.currentText() != "all":
            values["sft_loss_turns"] = self.sft_loss_turns.currentText()
        if self.seed.value() != 42:
            values["seed"] = self.seed.value()
        return values

    def options(self, generator: dict) -> StageOptions:
        """The stage to train (ValueError with the config's own message for a bad value)."""
        return StageOptions(stage=self.stage.currentData(), base=self.base_name(), preset=self.preset.currentText(),
                            settings=self.settings(), beta=round(self.beta.value(), 4),
                            generate=self.generate.isChecked(), generation_prompts=self.generation_prompts.value(),
                            generator=generator, fresh=self.fresh.isChecked())
