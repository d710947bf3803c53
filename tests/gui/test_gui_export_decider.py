"""Export by who decided (issue 12, item 9): the dialog says how many pairs a person and the reward
decided before writing, and writes only the chosen decider's pairs."""

import json

from PySide6.QtCore import Qt

from avr_studio.dialogs.export_dialog import ExportDialog
from backend.domain import Annotation


def test_export_only_the_pairs_a_person_decided(qtbot, project, tmp_path):
    store = project.store
    store.add_annotation(Annotation("i11", "reject", author="ann"))  # the improvement pair is now a person's
    from backend.curation.derived import refresh_pairs
    refresh_pairs(store, [project.p1])
    decided = [p.decided_by for p in store.pairs()]
    assert decided.count("human") == 1 and decided.count("reward") == 2
    dialog = ExportDialog(store)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.counts_label.text() == ("Writes <b>3</b> pairs · in the project: 1 decided by a person, "
                                          "2 by the reward")
    dialog.decider_combo.setFocus()
    qtbot.keyClick(dialog.decider_combo, Qt.Key.Key_Down)  # "A person"
    assert dialog.decided_by == "human" and dialog.rows_to_write() == 1
    assert "Writes <b>1</b> pairs" in dialog.counts_label.text()
    assert dialog.path_edit.text().endswith("pairs-by-person-trl.jsonl")
    out = tmp_path / "by-person.jsonl"
    dialog.path_edit.setText(str(out))
    with qtbot.waitSignal(dialog.sig_export_finished, timeout=20_000) as finished:
        dialog.export_button.click()
    assert finished.args[0].rows == 1
    [row] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    human = next(p for p in store.pairs() if p.decided_by == "human")
    assert row["chosen"][-1]["content"] == human.chosen and row["rejected"][-1]["content"] == human.rejected

    qtbot.keyClick(dialog.kind_combo, Qt.Key.Key_Down)  # RSFT samples: who decided does not apply
    assert not dialog.decider_combo.isEnabled() and dialog.decided_by is None and dialog.counts_label.text() == ""
