"""Pairs panel: it shows the stored pairs, which follow the person's verdicts and say who decided —
written by the backend with every verdict and undo, whether the panel was ever opened or not."""

from PySide6.QtCore import Qt

from avr_studio.commands.curation import EditTextCommand, SetVerdictCommand
from avr_studio.context import ProjectContext
from avr_studio.panels.pairs_panel import DECIDED_COLUMN, MARGIN_COLUMN, PairsPanel, PairsTableModel
from tests.gui.curation_store_fixture import build_curation_project
from tests.gui.screens import TMP_SCREENS, save_screenshot

# What the hand-built tree (curation_store_fixture.py) yields by the reward alone: i11 (0.9) beats r (0.5);
# r(c1) = 0.8 beats r(c2) = 0.35; under c1, i11 (0.9) beats i12 (0.7).
BY_REWARD = {"response": ("i11", "r", "reward"), "criticism": ("c1", "c2", "reward"),
             "improvement": ("i11", "i12", "reward")}


def _by_kind(pairs):
    return {p.kind: (p.chosen_node_id, p.rejected_node_id, p.decided_by) for p in pairs}


def _shown_panel(qtbot, context):
    panel = PairsPanel(context)
    qtbot.addWidget(panel)
    panel.resize(900, 300)
    panel.show()
    return panel


def test_pairs_table_model_passes_qt_model_tester(qtbot, qtmodeltester, project):
    context = ProjectContext(project.store)
    panel = _shown_panel(qtbot, context)
    context.select_prompt(project.p1)
    model = PairsTableModel()
    model.set_pairs(panel.pairs)
    qtmodeltester.check(model)
    assert model.rowCount() == 3


def test_a_reject_flips_the_stored_pair_to_the_person_and_the_panel_shows_it(qtbot, project):
    context = ProjectContext(project.store)
    panel = _shown_panel(qtbot, context)
    context.select_prompt(project.p1)
    assert _by_kind(panel.pairs) == BY_REWARD == _by_kind(project.store.pairs(prompt_id=project.p1))
    assert panel.status_label.text() == "3 pair(s) stored, 0 decided by a person"

    # The person rejects the reward model's favourite improvement: the order flips, a person decided.
    context.undo_stack.push(SetVerdictCommand(project.store, "i11", "reject", "ann", context.notify_data_changed))
    flipped = _by_kind(project.store.pairs(prompt_id=project.p1))
    assert flipped["improvement"] == ("i12", "i11", "human")
    assert flipped["response"] == ("i12", "r", "reward")  # a rejected node is never the chosen side
    assert _by_kind(panel.pairs) == flipped  # the panel shows what is stored
    row = next(r for r, p in enumerate(panel.model.pairs) if p.kind == "improvement")
    assert panel.model.data(panel.model.index(row, DECIDED_COLUMN)) == "person"
    assert panel.model.data(panel.model.index(row, MARGIN_COLUMN)) == "-0.200"  # the person overrode the reward
    save_screenshot(panel, "pairs_panel", folders=(TMP_SCREENS,))

    context.undo_stack.undo()  # and back again, in the store and on screen
    assert _by_kind(project.store.pairs(prompt_id=project.p1)) == BY_REWARD == _by_kind(panel.pairs)


def test_pairs_after_verdicts_are_the_same_whether_the_panel_was_ever_opened(qtbot, project, tmp_path):
    never = build_curation_project(tmp_path / "never-opened")  # the same project, no pairs panel at all
    try:
        with_panel = ProjectContext(project.store)
        panel = _shown_panel(qtbot, with_panel)
        without_panel = ProjectContext(never.store)
        for context, store in ((with_panel, project.store), (without_panel, never.store)):
            context.select_prompt(project.p1)
            context.undo_stack.push(SetVerdictCommand(store, "c2", "accept", "ann", context.notify_data_changed))
            context.undo_stack.push(EditTextCommand(store, "i12", "Baking soda cleans ovens and pans.", "ann",
                                                    context.notify_data_changed))
            context.undo_stack.push(SetVerdictCommand(store, "i11", "reject", "ann", context.notify_data_changed))
            context.undo_stack.undo()  # the reject is taken back
        assert not never.store.pairs(kind="nothing")
        shown = sorted((p.kind, p.chosen, p.rejected, p.decided_by) for p in project.store.pairs())
        headless = sorted((p.kind, p.chosen, p.rejected, p.decided_by) for p in never.store.pairs())
        assert shown == headless and shown
        assert ("edit", "Baking soda cleans ovens and pans.", "Baking soda cleans ovens. It also removes smells "
                "from shoes.", "human") in shown  # the person's version over the model's
        assert _by_kind(panel.pairs)["criticism"] == ("c2", "c1", "human")  # the accepted criticism won
    finally:
        never.store.close()


def test_a_hidden_panel_reads_nothing_until_it_is_shown(qtbot, project):
    context = ProjectContext(project.store)
    panel = PairsPanel(context)
    qtbot.addWidget(panel)
    context.select_prompt(project.p1)
    assert panel.pairs == []  # tabbed away: a prompt switch costs it nothing
    panel.show()
    assert _by_kind(panel.pairs) == BY_REWARD


def test_notes_say_why_a_tree_gave_no_pairs_and_a_double_click_compares(qtbot, project):
    context = ProjectContext(project.store)
    panel = _shown_panel(qtbot, context)
    context.select_prompt(project.p2)  # no improvement beats the answer: the authors' rules stop the tree
    assert panel.pairs == [] == project.store.pairs(prompt_id=project.p2)
    assert panel.notes and panel.notes_label.text().startswith("RSFT sample: no · pairs: none")
    assert all(note in panel.notes_label.text() for note in panel.notes)

    context.select_prompt(project.p1)
    row = next(r for r, p in enumerate(panel.model.pairs) if p.kind == "improvement")
    assert panel.model.data(panel.model.index(row, 0), Qt.ItemDataRole.DisplayRole) == "improvement"
    panel.table.doubleClicked.emit(panel.model.index(row, 0))
    assert context.compared_node_ids == ("i12", "i11")  # rejected on the left, chosen on the right


def test_a_headless_session_gets_the_same_pairs_as_the_app_for_the_same_annotations(qtbot, project, tmp_path,
                                                                                     capsys):
    from backend.cli.commands import run_command

    cli = build_curation_project(tmp_path / "cli")
    cli.store.close()  # the CLI opens the project itself
    cli_dir = str(tmp_path / "cli" / "project")
    edited = "Baking soda cleans ovens and pans."

    context = ProjectContext(project.store)  # the app: undoable commands from the node editor's keys
    context.select_prompt(project.p1)
    context.undo_stack.push(SetVerdictCommand(project.store, "c2", "accept", "ann", context.notify_data_changed))
    context.undo_stack.push(EditTextCommand(project.store, "i12", edited, "ann", context.notify_data_changed))
    context.undo_stack.push(SetVerdictCommand(project.store, "i11", "reject", "ann", context.notify_data_changed))
    context.undo_stack.undo()  # undoing the reject appends "no verdict"

    for args in (["c2", "--verdict", "accept"], ["i12", "--edit", edited], ["i11", "--verdict", "reject"],
                 ["i11", "--clear-verdict"]):
        assert run_command(["annotate", cli_dir, *args, "--author", "ann"]) == 0
    assert "Annotated node i11" in capsys.readouterr().out

    from backend.store import Store

    with Store.open(cli_dir) as headless:
        in_cli = sorted((p.kind, p.chosen, p.rejected, p.decided_by, p.rules) for p in headless.pairs())
        states_cli = headless.node_states(project.p1)
    in_app = sorted((p.kind, p.chosen, p.rejected, p.decided_by, p.rules) for p in project.store.pairs())
    assert in_cli == in_app
    assert {kind for kind, *_ in in_app} == {"response", "criticism", "improvement", "edit"}
    assert states_cli == project.store.node_states(project.p1)
