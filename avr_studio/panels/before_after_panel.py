"""Before / after: a trained run against its base on the held-out prompts. Pick an evaluation and a scorer;
the figures (win rate with ties counted half, mean reward, mean length) come first, then every prompt,
sortable by the reward difference, and the two models' answers to the selected prompt side by side with
the word diff (`avr_studio.diffing`). A Stage II model's answer is the text after "Final answer:"; its
whole thought is one tick away."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from avr_studio.context import ProjectContext
from avr_studio.diffing import highlighted_html, word_diff
from avr_studio.models.eval_rows_model import SORT_ROLE, EvalRowsModel
from avr_studio.panels.compare_panel import DELETED_COLOUR, INSERTED_COLOUR
from avr_studio.training_controller import TrainingController
from backend.training.evaluation import compare


def summary_text(comparison, role: str) -> str:
    """The figures of one scorer, as a person reads them."""
    c = comparison
    return (f"<b>Win rate {c.win_rate:.3f}</b> for the trained model under this {role} ({_count(c.wins, 'win')}, "
            f"{_count(c.ties, 'tie')}, {_count(c.losses, 'loss', 'losses')} on {_count(c.n, 'prompt')}; ties count "
            f"half) · mean reward {c.mean_reward_trained:.4g} "
            f"vs {c.mean_reward_base:.4g} · mean length {c.mean_length_trained:.0f} vs {c.mean_length_base:.0f} "
            "characters")


class BeforeAfterPanel(QWidget):
    def __init__(self, context: ProjectContext, controller: TrainingController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.evaluation = None
        self.evaluation_combo = QComboBox()
        self.evaluation_combo.setMinimumContentsLength(40)
        self.scorer_combo = QComboBox()
        self.whole_thought = QCheckBox("Whole long thought")
        self.whole_thought.setToolTip("Show the whole generated text, not only the answer after 'Final answer:'")
        self.whole_thought.hide()
        chooser = QHBoxLayout()
        chooser.addWidget(QLabel("Evaluation"))
        chooser.addWidget(self.evaluation_combo, 2)
        chooser.addWidget(QLabel("Scorer"))
        chooser.addWidget(self.scorer_combo, 1)
        chooser.addWidget(self.whole_thought)
        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)

        self.rows_model = EvalRowsModel(self)
        self.sorted_rows = QSortFilterProxyModel(self)
        self.sorted_rows.setSourceModel(self.rows_model)
        self.sorted_rows.setSortRole(SORT_ROLE)
        self.table = QTableView()
        self.table.setModel(self.sorted_rows)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)

        self.base_title, self.trained_title = QLabel(), QLabel()
        self.base_view, self.trained_view = QTextBrowser(), QTextBrowser()
        sides = QHBoxLayout()
        for title, view in ((self.base_title, self.base_view), (self.trained_title, self.trained_view)):
            column = QVBoxLayout()
            title.setWordWrap(True)
            column.addWidget(title)
            column.addWidget(view, 1)
            sides.addLayout(column, 1)
        self.prompt_label = QLabel()
        self.prompt_label.setWordWrap(True)
        self.prompt_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        answers = QWidget()
        answers_layout = QVBoxLayout(answers)
        answers_layout.setContentsMargins(0, 0, 0, 0)
        answers_layout.addWidget(self.prompt_label)
        answers_layout.addLayout(sides, 1)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(answers)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(chooser)
        layout.addWidget(self.summary_label)
        layout.addWidget(split, 1)

        self.evaluation_combo.currentIndexChanged.connect(lambda _i: self._show_evaluation())
        self.scorer_combo.currentIndexChanged.connect(lambda _i: self._show_scorer())
        self.whole_thought.toggled.connect(lambda _on: self._show_selected())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._show_selected())
        controller.sig_evaluation_finished.connect(lambda evaluation_id, _status: self.refresh(evaluation_id))
        context.sig_project_opened.connect(lambda: self.refresh())
        context.sig_project_closed.connect(lambda: self.refresh())
        self.refresh()

    # --- choosing --------------------------------------------------------------------------------
    def refresh(self, select: str | None = None) -> None:
        """Reload the evaluations (newest first); show `select`, or the one shown before, or the newest."""
        store = self.context.store
        keep = select or (self.evaluation.id if self.evaluation is not None else None)
        self.evaluation_combo.blockSignals(True)
        self.evaluation_combo.clear()
        evaluations = [] if store is None else [e for e in reversed(store.evaluations()) if e.status == "finished"]
        for e in evaluations:
            self.evaluation_combo.addItem(f"run {e.run_id} vs {e.against} ({e.base_model}) · {e.prompts} prompts · "
                                          f"{e.created_at:%Y-%m-%d %H:%M}", e.id)
        self.evaluation_combo.blockSignals(False)
        index = self.evaluation_combo.findData(keep) if keep else -1
        self.evaluation_combo.setCurrentIndex(index if index >= 0 else (0 if evaluations else -1))
        self._show_evaluation()

    def _show_evaluation(self) -> None:
        store = self.context.store
        evaluation_id = self.evaluation_combo.currentData()
        self.evaluation = store.get_evaluation(evaluation_id) if store is not None and evaluation_id else None
        self.scorer_combo.blockSignals(True)
        self.scorer_combo.clear()
        if self.evaluation is not None:
            for label in self.evaluation.scorers:
                role = "training scorer" if label == self.evaluation.training_scorer else "judge"
                self.scorer_combo.addItem(f"{label} ({role})", label)
        self.scorer_combo.blockSignals(False)
        if self.evaluation is None:
            self.summary_label.setText("No evaluation yet: in Training, select a finished run and click "
                                       "“Evaluate against base”.")
        self._show_scorer()

    def _show_scorer(self) -> None:
        store, label = self.context.store, self.scorer_combo.currentData()
        rows = store.eval_rows(self.evaluation.id, label) if self.evaluation is not None and label else []
        self.rows_model.set_rows(rows)
        self.whole_thought.setVisible(any(r.base_text != r.base_answer or r.trained_text != r.trained_answer
                                          for r in rows))
        if rows:
            role = "training scorer" if label == self.evaluation.training_scorer else "judge"
            self.summary_label.setText(summary_text(compare([_pair(r) for r in rows]), role))
            self.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)  # largest gain first
            self.table.selectRow(0)
        elif self.evaluation is not None:
            self.summary_label.setText("This scorer scored no prompt of this evaluation.")
        self._show_selected()

    # --- one prompt --------------------------------------------------------------------------------
    def selected_row(self):
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.rows_model.row_at(self.sorted_rows.mapToSource(rows[0]).row())

    def _show_selected(self) -> None:
        row = self.selected_row()
        if row is None:
            for view in (self.base_view, self.trained_view):
                view.clear()
            self.base_title.clear()
            self.trained_title.clear()
            self.prompt_label.clear()
            return
        whole = self.whole_thought.isChecked()
        base = row.base_text if whole else row.base_answer
        trained = row.trained_text if whole else row.trained_answer
        diff = word_diff(base, trained)
        self.prompt_label.setText(f"<b>Prompt</b>: {_escaped(row.prompt)}")
        self.base_title.setText(f"<b>Base</b> ({_escaped(self.evaluation.base_model)}) · reward {row.base_score:.4g}")
        self.trained_title.setText(f"<b>Trained</b> ({self.evaluation.trained_model}) · reward {row.trained_score:.4g}"
                                   f" · Δ {row.trained_score - row.base_score:+.4g}")
        self.base_view.setHtml(highlighted_html(base, diff.deleted, DELETED_COLOUR))
        self.trained_view.setHtml(highlighted_html(trained, diff.inserted, INSERTED_COLOUR))


def _count(n: int, one: str, many: str | None = None) -> str:
    """
    >>> _count(1, "win"), _count(2, "loss", "losses")
    ('1 win', '2 losses')
    """
    return f"{n} {one if n == 1 else many or one + 's'}"


def _pair(row):
    from backend.training.evaluation import AnswerPair

    return AnswerPair(row.prompt_id, row.base_answer, row.trained_answer, row.base_score, row.trained_score)


def _escaped(text: str) -> str:
    import html

    return html.escape(text)
