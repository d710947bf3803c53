"""Pairs panel: pairs follow the person's verdicts, say who decided, and are written to the project."""

from PySide6.QtCore import Qt

from avr_studio.commands.curation import SetVerdictCommand
from avr_studio.context import ProjectContext
from avr_studio.panels.pairs_panel import DECIDED_COLUMN, MARGIN_COLUMN, PairsPanel, PairsTableModel
from tests.gui.screens import TMP_SCREENS, save_screenshot


def _by_kind(pairs):
    return {p.kind: (p.chosen_node_id, p.rejected_node_id, p.decided_by) for p in pairs}


def test_pairs_table_model_passes_qt_model_tester(qtbot, qtmodeltester, project):
    context = ProjectContext(project.store)
    panel = PairsPanel(context)
    qtbot.addWidget(panel)
    context.select_prompt(project.p1)
    model = PairsTableModel()
    model.set_pairs(panel.stage1.pairs)
    qtmodeltester.check(model)
    assert model.rowCount() == 3


def test_a_reject_flips_the_pair_to_the_person_and_is_written(qtbot, project):
    context = ProjectContext(project.store)
    panel = PairsPanel(context)
    qtbot.addWidget(panel)
    panel.resize(900, 300)
    panel.show()
    context.select_prompt(project.p1)
    assert _by_kind(panel.stage1.pairs) == {
        "response": ("i11", "r", "reward"),
        "criticism": ("c1", "c2", "reward"),
        "improvement": ("i11", "i12", "reward"),
    }
    assert panel.stored_pairs() == [] and panel.write_button.isEnabled()
    panel.auto_write_check.setChecked(False)
    with qtbot.waitSignal(panel.sig_pairs_written) as written:
        panel.write_button.click()
    assert written.args == [project.p1, 3]
    assert _by_kind(project.store.pairs(prompt_id=project.p1)) == _by_kind(panel.stage1.pairs)
    assert len(project.store.sft_samples("rsft")) == 1
    assert not panel.write_button.isEnabled()

    # The person rejects the reward model's favourite improvement: the order flips, a person decided.
    panel.auto_write_check.setChecked(True)
    with qtbot.waitSignal(panel.sig_pairs_written):
        context.undo_stack.push(SetVerdictCommand(project.store, "i11", "reject", "ann",
                                                  context.notify_data_changed))
    flipped = _by_kind(panel.stage1.pairs)
    assert flipped["improvement"] == ("i12", "i11", "human")
    assert flipped["response"] == ("i12", "r", "reward")  # a rejected node is never the chosen side
    assert _by_kind(project.store.pairs(prompt_id=project.p1)) == flipped  # the stored table followed
    row = next(r for r, p in enumerate(panel.model.pairs) if p.kind == "improvement")
    assert panel.model.data(panel.model.index(row, DECIDED_COLUMN)) == "person"
    assert panel.model.data(panel.model.index(row, MARGIN_COLUMN)) == "-0.200"  # the person overrode the reward
    qtbot.wait(10)
    save_screenshot(panel, "pairs_panel", folders=(TMP_SCREENS,))

    context.undo_stack.undo()  # and back again
    assert _by_kind(project.store.pairs(prompt_id=project.p1))["improvement"] == ("i11", "i12", "reward")


def test_notes_say_why_a_kind_is_missing(qtbot, project):
    context = ProjectContext(project.store)
    panel = PairsPanel(context)
    qtbot.addWidget(panel)
    context.select_prompt(project.p2)  # one criticism, no improvement beats the answer
    kinds = {p.kind for p in panel.stage1.pairs}
    assert "response" not in kinds and "criticism" not in kinds
    assert panel.stage1.notes and panel.notes_label.text().startswith("RSFT sample: no")
    assert all(note in panel.notes_label.text() for note in panel.stage1.notes)
    panel.table.doubleClicked.emit(panel.model.index(0, 0))
    assert context.compared_node_ids == (panel.model.pairs[0].rejected_node_id, panel.model.pairs[0].chosen_node_id)
    assert panel.model.data(panel.model.index(0, 0), Qt.ItemDataRole.DisplayRole) == "improvement"
