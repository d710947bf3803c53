"""Grow Trees: how many prompts without a tree to grow one for (2 at first), with an estimate of how
long that takes from the speed measured on this project's last tree job (`job_labels.GenerationSpeed`),
the generator and the scorers the trees will be made and scored by. A generator or scorer folder that
cannot load is named here and Grow stays disabled: the job would only fail once its worker starts."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from avr_studio.job_labels import NODES_PER_TREE, GenerationSpeed, format_duration

DEFAULT_PROMPTS = 2  # a couple of minutes on the bundled model: something to curate soon


class GrowTreesDialog(QDialog):
    """Pick a number of prompts; the estimate follows the number as it changes."""

    def __init__(self, speed: GenerationSpeed, without_tree: int, scorers: list[str], generator: str = "",
                 problem: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Grow Trees")
        self.setMinimumWidth(460)
        self.speed = speed
        self.count_spin = QSpinBox(minimum=1, maximum=max(1, without_tree), value=min(DEFAULT_PROMPTS,
                                                                                   max(1, without_tree)))
        self.count_spin.setSuffix(" prompts")
        self.estimate_label = QLabel(wordWrap=True)
        self.basis_label = QLabel(wordWrap=True)
        self.basis_label.setStyleSheet("color: #666;")
        scorer_text = ", ".join(scorers) if scorers else "the scorer of Settings"
        form = QFormLayout()
        form.addRow("Grow a Stage I tree for", self.count_spin)
        note = QLabel(f"{without_tree:,} prompts have no tree yet or an unfinished one (those first); a tree is "
                      f"1 answer, 2 criticisms and 4 improvements ({NODES_PER_TREE} nodes).")
        note.setWordWrap(True)
        form.addRow("", note)
        if generator:
            form.addRow("Made by", QLabel(generator))
        form.addRow("Scored by", QLabel(scorer_text))
        form.addRow("Takes about", self.estimate_label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.grow_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.grow_button.setText("Grow")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.basis_label)
        self.problem_label = QLabel(f"{problem}\nFix it in File → Settings (Ctrl+,)." if problem else "",
                                    wordWrap=True)
        self.problem_label.setObjectName("growProblem")
        self.problem_label.setStyleSheet("color: #b00020;")
        self.problem_label.setVisible(bool(problem))
        layout.addWidget(self.problem_label)
        layout.addWidget(buttons)
        self.grow_button.setEnabled(not problem)
        self.count_spin.valueChanged.connect(lambda _value: self._show_estimate())
        self._show_estimate()

    @property
    def count(self) -> int:
        return self.count_spin.value()

    def estimate_seconds(self) -> float:
        return self.speed.seconds_for_trees(self.count)

    def _show_estimate(self) -> None:
        self.estimate_label.setText(f"<b>{format_duration(self.estimate_seconds())}</b>")
        speed = self.speed
        if speed.measured:
            basis = (f"Measured on this project's last tree job: {speed.tokens_per_s:.0f} tokens/s with scoring, "
                     f"~{speed.tokens_per_node:.0f} tokens per node.")
        else:
            basis = (f"A first-run guess ({speed.tokens_per_s:.0f} tokens/s, ~{speed.tokens_per_node:.0f} tokens "
                     "per node, as measured for the bundled model on 2 CPU cores); the estimate uses this "
                     "project's own speed after its first tree job.")
        self.basis_label.setText(basis)
