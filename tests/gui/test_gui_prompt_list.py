"""The prompt list: lazy pages, store-side sort and filter, counts, and picking the current prompt."""

import pytest
from PySide6.QtCore import QModelIndex, Qt

from avr_studio.context import ProjectContext
from avr_studio.models.prompt_list_model import (
    GAIN_COLUMN,
    GAIN_DOWN,
    GAIN_UP,
    PAGE_SIZE,
    STATE_COLUMN,
    PromptListModel,
)
from avr_studio.panels.prompt_list_panel import PromptListPanel
from backend.store import PromptFilter
from tests.gui.curation_store_fixture import many_prompts_store
from tests.gui.screens import TMP_SCREENS, save_screenshot


def _texts(model: PromptListModel) -> list[str]:
    return [model.data(model.index(row, 0)) for row in range(model.rowCount())]


def test_model_passes_qt_model_tester(qtmodeltester, project):
    model = PromptListModel(project.store)
    qtmodeltester.check(model)
    model.sort(GAIN_COLUMN, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(model)


def test_pages_arrive_as_the_view_asks_for_more(tmp_path):
    store = many_prompts_store(tmp_path, 450)
    try:
        model = PromptListModel(store)
        assert PAGE_SIZE == 200
        assert model.rowCount() == 200 and model.canFetchMore(QModelIndex())
        model.fetchMore(QModelIndex())
        assert model.rowCount() == 400
        model.fetchMore(QModelIndex())
        assert model.rowCount() == 450 and not model.canFetchMore(QModelIndex())
        assert model.data(model.index(449, 0)) == "Prompt number 0449"  # import order, no duplicates
        assert (model.matching_count, model.total_count) == (450, 450)
    finally:
        store.close()


def test_sorting_by_gain_puts_missing_values_last(project):
    model = PromptListModel(project.store)
    assert _texts(model) == ["Name two uses of baking soda.", "Explain photosynthesis briefly.",
                             "Write a haiku about rain."]  # added order
    model.sort(GAIN_COLUMN, Qt.SortOrder.AscendingOrder)
    assert _texts(model) == ["Explain photosynthesis briefly.", "Name two uses of baking soda.",
                             "Write a haiku about rain."]
    assert [model.data(model.index(r, GAIN_COLUMN)) for r in range(3)] == ["-0.400", "+0.400", "—"]
    assert model.data(model.index(0, GAIN_COLUMN), Qt.ItemDataRole.ForegroundRole) == GAIN_DOWN
    assert model.data(model.index(1, GAIN_COLUMN), Qt.ItemDataRole.ForegroundRole) == GAIN_UP
    model.sort(0, Qt.SortOrder.DescendingOrder)
    assert _texts(model)[0] == "Write a haiku about rain."


@pytest.mark.parametrize(("prompt_filter", "expected"), [
    (PromptFilter(text="PHOTO"), ["Explain photosynthesis briefly."]),
    (PromptFilter(has_improving=True), ["Name two uses of baking soda."]),
    (PromptFilter(state="new"), ["Write a haiku about rain."]),
    (PromptFilter(min_gain=0.0), ["Name two uses of baking soda."]),
    (PromptFilter(min_gain=-1.0), ["Name two uses of baking soda.", "Explain photosynthesis briefly."]),
])
def test_filters_choose_rows(project, prompt_filter, expected):
    model = PromptListModel(project.store)
    model.set_filter(prompt_filter)
    assert _texts(model) == expected
    assert model.matching_count == len(expected) and model.total_count == 3


def test_panel_filter_bar_counts_and_selection(qtbot, project):
    context = ProjectContext(project.store)
    panel = PromptListPanel(context)
    qtbot.addWidget(panel)
    panel.resize(760, 300)
    panel.show()
    assert panel.count_label.text() == "3 of 3 prompts"

    with qtbot.waitSignal(panel.sig_counts_changed, timeout=2000) as counts:
        qtbot.keyClicks(panel.search_edit, "soda")  # debounced: one query after typing stops
    assert counts.args == ["1 of 3 prompts"]
    assert _texts(panel.model) == ["Name two uses of baking soda."]

    panel.search_edit.clear()
    panel.apply_filter()
    panel.improving_check.setChecked(True)
    assert _texts(panel.model) == ["Name two uses of baking soda."]
    panel.improving_check.setChecked(False)
    panel.state_combo.setCurrentIndex(panel.state_combo.findData("new"))
    assert _texts(panel.model) == ["Write a haiku about rain."]
    panel.state_combo.setCurrentIndex(0)
    panel.min_gain_spin.setValue(-0.5)
    assert len(_texts(panel.model)) == 2
    panel.min_gain_spin.setValue(panel.min_gain_spin.minimum())  # "any"
    assert panel.count_label.text() == "3 of 3 prompts"

    with qtbot.waitSignal(context.sig_prompt_selected) as picked:
        panel.table.selectRow(1)
    assert picked.args == [project.p2] and context.current_prompt_id == project.p2

    panel.table.horizontalHeader().setSortIndicator(GAIN_COLUMN, Qt.SortOrder.DescendingOrder)
    assert _texts(panel.model)[0] == "Name two uses of baking soda."
    assert panel.table.currentIndex().row() == panel.model.row_of(project.p2)  # selection survived the sort
    qtbot.wait(10)  # let the layout catch up with the label texts before the picture
    save_screenshot(panel, "prompt_list_panel", folders=(TMP_SCREENS,))


def test_a_verdict_refreshes_the_prompt_row_in_place(qtbot, project):
    from backend.domain import Annotation

    context = ProjectContext(project.store)
    panel = PromptListPanel(context)
    qtbot.addWidget(panel)
    project.store.add_annotation(Annotation("c1", "accept", author="t"))
    with qtbot.waitSignal(panel.model.dataChanged):
        context.notify_data_changed(project.p1)
    assert panel.model.data(panel.model.index(0, STATE_COLUMN)) == "curated"
    assert panel.count_label.text() == "3 of 3 prompts"


def test_opening_a_project_reads_the_prompt_list_once(qtbot, project, monkeypatch):
    """One page and one count as a project opens (it was two of each: set_store then set_filter, and
    the unfiltered total counted again); a filter still counts its matches and the total apart."""
    calls = {"list": 0, "count": 0}
    store = project.store

    def counting(key, original):
        def counted(*args, **kwargs):
            calls[key] += 1
            return original(*args, **kwargs)
        return counted

    monkeypatch.setattr(store, "list_prompt_summaries", counting("list", store.list_prompt_summaries))
    monkeypatch.setattr(store, "count_prompt_summaries", counting("count", store.count_prompt_summaries))
    context = ProjectContext()
    panel = PromptListPanel(context)
    qtbot.addWidget(panel)
    context.open_store(store)
    assert calls == {"list": 1, "count": 1}
    assert panel.count_label.text() == "3 of 3 prompts"
    panel.state_combo.setCurrentIndex(panel.state_combo.findData("new"))
    assert calls == {"list": 2, "count": 3}
    assert panel.count_label.text() == "1 of 3 prompts"
