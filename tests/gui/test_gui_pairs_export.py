"""Export dialog: writes the chosen data off the UI thread and reports counts, or the error to fix."""

import json
import threading

import pytest

from avr_studio.dialogs import export_dialog
from avr_studio.dialogs.export_dialog import ExportDialog
from backend.avr.pairs import build_stage1
from backend.config import PairConfig
from backend.curation.prompt_trees import PromptTrees
from tests.gui.curation_store_fixture import SCORER
from tests.gui.screens import TMP_SCREENS, save_screenshot


@pytest.fixture
def project(project):
    """The shared curation project (conftest.py), with its Stage I pairs and RSFT samples written."""
    trees = PromptTrees.load(project.store, project.p1)
    data = build_stage1(project.store.get_prompt(project.p1), trees.roots, project.store.templates,
                        PairConfig(scorer=SCORER))
    project.store.replace_stage1_data([project.p1], data.pairs, data.rsft)
    return project


def test_export_writes_pairs_and_reports_counts(qtbot, project, tmp_path, monkeypatch):
    dialog = ExportDialog(project.store)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.path_edit.text().endswith("exports/pairs-trl.jsonl")  # suggested in the project
    out = tmp_path / "out" / "pairs.jsonl"
    out.parent.mkdir()
    dialog.path_edit.setText(str(out))
    # The real export, with a note of the thread it ran on: it must not be the UI thread.
    threads = []
    real_export = export_dialog.export

    def export_noting_its_thread(*args, **kwargs):
        threads.append(threading.get_ident())
        return real_export(*args, **kwargs)

    monkeypatch.setattr(export_dialog, "export", export_noting_its_thread)
    with qtbot.waitSignal(dialog.sig_export_finished, timeout=10000) as done:
        dialog.export_button.click()
    assert threads and threads[0] != threading.get_ident()  # written off the UI thread
    report = done.args[0]
    assert report.rows == 3
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 3 and {"chosen", "rejected"} <= set(rows[0])
    assert "Wrote 3 rows (pairs, trl, jsonl)" in dialog.result_label.text()
    assert dialog.export_button.isEnabled()
    save_screenshot(dialog, "export_dialog", folders=(TMP_SCREENS,))


def test_export_reports_what_to_do_when_there_is_nothing(qtbot, project):
    dialog = ExportDialog(project.store)
    qtbot.addWidget(dialog)
    dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData("long-thought"))
    assert dialog.path_edit.text().endswith("long-thought-trl.jsonl")  # the suggestion follows the choices
    with qtbot.waitSignal(dialog.sig_export_failed, timeout=10000) as failed:
        dialog.export_button.click()
    assert "nothing to export" in failed.args[0]
    assert "nothing to export" in dialog.result_label.text()


def test_llamafactory_export_writes_a_folder(qtbot, project, tmp_path):
    dialog = ExportDialog(project.store)
    qtbot.addWidget(dialog)
    dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData("sft"))
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("llamafactory"))
    dialog.file_type_combo.setCurrentIndex(dialog.file_type_combo.findData("json"))
    dialog.path_edit.setText(str(tmp_path / "lf"))
    with qtbot.waitSignal(dialog.sig_export_finished, timeout=10000) as done:
        dialog.export_button.click()
    assert done.args[0].rows == 1
    assert (tmp_path / "lf" / "dataset_info.json").is_file()
