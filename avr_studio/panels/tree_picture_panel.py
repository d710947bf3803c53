"""The tree as a picture (`TreeCanvas`), and two pictures side by side: the same trees under another
scorer, or another tree of the same prompt (another round or model). A node clicked in either is
selected everywhere; the selected node's text is shown under the pictures.

Drawn from the shared current-prompt trees (another scorer's view reuses the scores loaded with
them: no query), and only while the tab is on screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSplitter,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from avr_studio.models.tree_model import KIND_LABEL, node_summary_html
from avr_studio.panels.on_screen import is_on_screen
from avr_studio.panels.tree_canvas import TreeCanvas
from backend.curation.prompt_trees import PromptTrees

if TYPE_CHECKING:
    from avr_studio.context import ProjectContext

ALL_TREES = -1
NOTHING = ("none", None)
AUTO_FIT_FLOOR = 0.45  # a drawing fitted by itself shrinks no further (boxes stay legible); it scrolls


def tree_title(trees: PromptTrees, index: int) -> str:
    """'Tree 2 · round 1 · model-name' for the picker."""
    root = trees.roots[index].node
    model = f" · {root.model}" if root.model else ""
    return f"Tree {index + 1} · {KIND_LABEL.get(root.kind, root.kind).lower()} · round {root.round}{model}"


class TreePicturePanel(QWidget):
    """One or two tree pictures of the current prompt, and the selected node's text."""

    def __init__(self, context: ProjectContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tree_picture_panel")
        self._context = context
        self._current = context.current_prompt
        self._stale = True
        self._side_trees: PromptTrees | None = None
        self.left_canvas, self.right_canvas = TreeCanvas(), TreeCanvas()
        self.tree_combo = QComboBox()
        self.tree_combo.setToolTip("Which of the prompt's trees to draw")
        self.beside_combo = QComboBox()
        self.beside_combo.setToolTip("A second picture beside the first: the same trees under another scorer, "
                                     "or another tree of this prompt (another round or model)")
        for combo in (self.tree_combo, self.beside_combo):
            combo.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.left_caption, self.right_caption = QLabel(), QLabel()
        for caption in (self.left_caption, self.right_caption):  # a long caption must not widen its side
            caption.setWordWrap(True)
        zoom_out, zoom_in, fit = QToolButton(text="−"), QToolButton(text="+"), QToolButton(text="Fit")
        for button, tip in ((zoom_out, "Smaller"), (zoom_in, "Larger"), (fit, "Fit the picture to the view")):
            button.setToolTip(tip)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        # Each drawing fits the view (two pictures side by side get half the width each) until the
        # person zooms by hand; Fit goes back to that.
        self._auto_fit = True
        self._share_width = False
        zoom_out.clicked.connect(lambda: self._zoom_by_hand(self.left_canvas.zoom / 1.25))
        zoom_in.clicked.connect(lambda: self._zoom_by_hand(self.left_canvas.zoom * 1.25))
        fit.clicked.connect(self._fit_by_hand)

        bar = QHBoxLayout()
        bar.addWidget(QLabel("Tree"))
        bar.addWidget(self.tree_combo)
        bar.addSpacing(12)
        bar.addWidget(QLabel("Beside it"))
        bar.addWidget(self.beside_combo)
        bar.addStretch(1)
        for button in (zoom_out, zoom_in, fit):
            bar.addWidget(button)
        self.pictures = QSplitter(Qt.Orientation.Horizontal)
        self.right_side = QWidget()
        for canvas, caption, side in ((self.left_canvas, self.left_caption, QWidget()),
                                      (self.right_canvas, self.right_caption, self.right_side)):
            scroll = QScrollArea()
            scroll.setWidget(canvas)
            scroll.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            box = QVBoxLayout(side)
            box.setContentsMargins(0, 0, 0, 0)
            box.addWidget(caption)
            box.addWidget(scroll, 1)
            self.pictures.addWidget(side)
            canvas.sig_node_clicked.connect(self._on_node_clicked)
        self.right_side.hide()
        self.node_header = QLabel(textFormat=Qt.TextFormat.RichText, wordWrap=True)
        self.node_text = QTextBrowser()
        self.node_text.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        text_side = QWidget()
        text_box = QVBoxLayout(text_side)
        text_box.setContentsMargins(0, 0, 0, 0)
        text_box.addWidget(self.node_header)
        text_box.addWidget(self.node_text, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.pictures)
        splitter.addWidget(text_side)
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(splitter, 1)

        self.tree_combo.activated.connect(lambda _i: self.redraw())
        self.beside_combo.activated.connect(lambda _i: self.redraw())
        self._current.sig_trees_changed.connect(self._on_trees_changed)
        self._current.sig_scorers_changed.connect(self._on_trees_changed)
        context.sig_node_selected.connect(self._on_node_selected)

    # --- public --------------------------------------------------------------------------------
    def on_screen_changed(self, on_screen: bool) -> None:
        """The tab was shown (True) or left (False); the main window calls this."""
        if on_screen and self._stale:
            self.redraw()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.on_screen_changed(True)

    def focus_canvas(self) -> None:
        self.left_canvas.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def set_zoom(self, zoom: float) -> None:
        for canvas in (self.left_canvas, self.right_canvas):
            canvas.set_zoom(zoom)

    def fit(self, floor: float = 0.0) -> None:
        """Zoom so the left picture fits its view (never above 100 %, nor below `floor`)."""
        size = self.left_canvas.content_size()
        view = self.left_canvas.parentWidget().size()  # the scroll area's viewport
        if size.width() and size.height():
            scale = min(view.width() / size.width(), view.height() / size.height()) * self.left_canvas.zoom
            self.set_zoom(max(min(scale * 0.98, 1.0), floor))

    def _zoom_by_hand(self, zoom: float) -> None:
        self._auto_fit = False
        self.set_zoom(zoom)

    def _fit_by_hand(self) -> None:
        self._auto_fit = True
        self.fit()

    def _after_layout(self) -> None:
        if self._share_width and self.right_side.isVisibleTo(self):
            half = max(self.pictures.width() // 2, 200)
            self.pictures.setSizes([half, half])
        self._share_width = False
        if self._auto_fit:  # alone, a long Stage II chain stays legible and scrolls instead of shrinking to dots
            self.fit(floor=0.0 if self.right_side.isVisibleTo(self) else AUTO_FIT_FLOOR)

    def show_beside(self, choice: tuple[str, object]) -> None:
        """Choose the second picture: ("scorer", label), ("tree", index) or ("none", None)."""
        index = next((i for i in range(self.beside_combo.count()) if self.beside_combo.itemData(i) == choice), 0)
        self.beside_combo.setCurrentIndex(index)
        self.redraw()

    def redraw(self) -> None:
        self._stale = False
        trees = self._current.trees
        chosen = self.tree_combo.currentData()
        roots = trees.roots if chosen in (None, ALL_TREES) or chosen >= len(trees.roots) else [trees.roots[chosen]]
        self.left_canvas.set_trees(trees, roots)
        which = "all trees" if len(roots) != 1 or len(trees.roots) == 1 else tree_title(trees, trees.roots.index(roots[0]))
        self.left_caption.setText(f"<b>{trees.scorer or 'no scorer'}</b> · {which}" if trees.prompt_id else "")
        kind, value = self.beside_combo.currentData() or NOTHING
        self._side_trees = None
        if kind == "scorer" and trees.prompt_id:
            self._side_trees = trees.under(str(value))
            side_roots = [self._side_trees.roots[trees.roots.index(r)] for r in roots]
            self.right_canvas.set_trees(self._side_trees, side_roots)
            self.right_caption.setText(f"<b>{value}</b> · the same trees under another scorer")
        elif kind == "tree" and isinstance(value, int) and value < len(trees.roots):
            self._side_trees = trees
            self.right_canvas.set_trees(trees, [trees.roots[value]])
            self.right_caption.setText(f"<b>{trees.scorer}</b> · {tree_title(trees, value)}")
        was_shown = self.right_side.isVisibleTo(self)
        self.right_side.setVisible(self._side_trees is not None)
        # two pictures share the width equally, once the splitter has laid them out (and the fit follows)
        self._share_width = self._share_width or (self._side_trees is not None and not was_shown)
        self._on_node_selected(self._context.current_node_id or "")
        QTimer.singleShot(0, self, self._after_layout)

    # --- reactions -----------------------------------------------------------------------------
    def _on_trees_changed(self, _prompt_id: str = "") -> None:
        self._fill_choices()
        self._stale = True
        if is_on_screen(self):
            self.redraw()

    def _fill_choices(self) -> None:
        trees = self._current.trees
        for combo in (self.tree_combo, self.beside_combo):
            combo.blockSignals(True)
        tree_choice, beside_choice = self.tree_combo.currentData(), self.beside_combo.currentData()
        self.tree_combo.clear()
        self.tree_combo.addItem("All trees", ALL_TREES)
        self.beside_combo.clear()
        self.beside_combo.addItem("Nothing", NOTHING)
        for scorer in sorted(trees.scores_by_scorer):
            if scorer != trees.scorer:
                self.beside_combo.addItem(f"The same trees under {scorer}", ("scorer", scorer))
        for index in range(len(trees.roots)):
            self.tree_combo.addItem(tree_title(trees, index), index)
            if len(trees.roots) > 1:
                self.beside_combo.addItem(tree_title(trees, index), ("tree", index))
        self.tree_combo.setCurrentIndex(max(0, self.tree_combo.findData(tree_choice)))
        beside = next((i for i in range(self.beside_combo.count()) if self.beside_combo.itemData(i) == beside_choice), 0)
        self.beside_combo.setCurrentIndex(beside)
        for combo in (self.tree_combo, self.beside_combo):
            combo.blockSignals(False)

    def _on_node_clicked(self, node_id: str) -> None:
        self._context.select_node(node_id)

    def _on_node_selected(self, node_id: str) -> None:
        for canvas in (self.left_canvas, self.right_canvas):
            canvas.select(node_id)
        trees = self._current.trees
        tree_node = trees.by_id.get(node_id)
        if tree_node is None:
            self.node_header.setText("<i>Click a node (or use the arrow keys) to read it here.</i>")
            self.node_text.clear()
            return
        self.node_header.setText(node_summary_html(tree_node, trees.reward(node_id), trees.parent(node_id)))
        self.node_text.setPlainText(tree_node.text)
