"""A painted picture of a prompt's refinement trees: every node a box in its column (answer →
criticisms → improvements, Stage II rounds further right) with its reward as a bar, its gain Δ as the
box's colour, its verdict as a mark, and the best refinement's path in gold. A click or an arrow key
selects a node (`sig_node_clicked`); the owner makes that the selection everywhere.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QKeyEvent, QMouseEvent, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from avr_studio.models.tree_model import KIND_LABEL, REGENERATED_MARK, VERDICT_LOOK
from avr_studio.tree_layout import Placed, grid_size, layout_trees, neighbour
from backend.curation.prompt_trees import PromptTrees
from backend.curation.provenance import is_regenerated, made_from_other_text

BOX_W, BOX_H = 200.0, 62.0
COLUMN_GAP, ROW_H, MARGIN = 34.0, 72.0, 12.0
GAIN_UP, GAIN_DOWN = QColor("#1b7f3b"), QColor("#b3261e")
NEUTRAL_FILL = QColor("#f5f6f8")
ANSWER_FILL = QColor("#eef3fb")
CRITICISM_FILL = QColor("#fbf7ea")
BAR_TRACK, BAR_FILL = QColor("#dfe3ea"), QColor("#3b7dd8")
SELECTED_PEN = QColor("#1f5fbf")
BEST_EDGE = QColor("#c99a06")
ARROWS = {Qt.Key.Key_Left: "left", Qt.Key.Key_Right: "right", Qt.Key.Key_Up: "up", Qt.Key.Key_Down: "down"}


def gain_fill(gain: float | None, largest: float) -> QColor:
    """The box colour for a gain: green up, red down, stronger the larger |Δ| against the largest."""
    if gain is None or largest <= 0:
        return NEUTRAL_FILL
    strength = min(abs(gain) / largest, 1.0)
    base = GAIN_UP if gain > 0 else GAIN_DOWN
    white = QColor("#ffffff")
    mix = 0.12 + 0.38 * strength  # never solid: the text must stay readable
    return QColor(round(white.red() + (base.red() - white.red()) * mix),
                  round(white.green() + (base.green() - white.green()) * mix),
                  round(white.blue() + (base.blue() - white.blue()) * mix))


class TreeCanvas(QWidget):
    """The picture of one PromptTrees; lives in a scroll area and sizes itself to the trees."""

    sig_node_clicked = Signal(str)
    """The person clicked a node, or moved to one with an arrow key (node id)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.trees = PromptTrees("", [])
        self.places: dict[str, Placed] = {}
        self.selected = ""
        self.zoom = 1.0
        self._children: dict[str, list[str]] = {}
        self._reward_range = (0.0, 1.0)
        self._largest_gain = 0.0
        self._best_path: set[str] = set()
        self._font = QFont(self.font())
        self._font.setPointSizeF(max(self._font.pointSizeF() - 1, 7.0))
        self._bold = QFont(self._font)
        self._bold.setBold(True)

    # --- content -------------------------------------------------------------------------------
    def set_trees(self, trees: PromptTrees, roots: list | None = None) -> None:
        """Show `trees` (only `roots` of them when given)."""
        self.trees = trees
        shown = trees.roots if roots is None else roots
        self.places = layout_trees(shown)
        self._children = {tree_node.id: [c.id for c in tree_node.children] for tree_node in trees.nodes()}
        rewards = [r.reward for node_id, r in trees.rewards.items() if node_id in self.places and r.reward is not None]
        low, high = (min(rewards), max(rewards)) if rewards else (0.0, 1.0)
        self._reward_range = (low, high if high > low else low + 1.0)
        gains = [abs(r.gain) for node_id, r in trees.rewards.items() if node_id in self.places and r.gain is not None]
        self._largest_gain = max(gains, default=0.0)
        self._best_path = self._path_to_best()
        self._resize_to_content()
        self.update()

    def select(self, node_id: str) -> None:
        if node_id != self.selected:
            self.selected = node_id if node_id in self.places else ""
            self.update()

    def set_zoom(self, zoom: float) -> None:
        self.zoom = min(max(zoom, 0.35), 2.0)
        self._resize_to_content()
        self.update()

    def node_rect(self, node_id: str) -> QRectF:
        """The node's box in widget coordinates (zoom applied)."""
        place = self.places[node_id]
        x = MARGIN + place.column * (BOX_W + COLUMN_GAP)
        y = MARGIN + place.row * ROW_H
        return QRectF(x * self.zoom, y * self.zoom, BOX_W * self.zoom, BOX_H * self.zoom)

    def node_at(self, point: QPointF) -> str | None:
        return next((node_id for node_id in self.places if self.node_rect(node_id).contains(point)), None)

    def content_size(self) -> QSize:
        columns, rows = grid_size(self.places)
        width = 2 * MARGIN + max(columns, 1) * BOX_W + max(columns - 1, 0) * COLUMN_GAP
        height = 2 * MARGIN + max(rows - 1, 0) * ROW_H + BOX_H
        return QSize(round(width * self.zoom), round(height * self.zoom))

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return self.content_size()

    # --- events --------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        node_id = self.node_at(event.position())
        if node_id is not None:
            self.setFocus(Qt.FocusReason.MouseFocusReason)
            self.select(node_id)
            self.sig_node_clicked.emit(node_id)
        super().mousePressEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        direction = ARROWS.get(Qt.Key(event.key()))
        if direction is None or not self.places:
            super().keyPressEvent(event)
            return
        start = self.selected or next(iter(self.places))
        target = neighbour(self.places, self.trees.parent_of, self._children, start, direction) \
            if self.selected else start
        if target is not None and target in self.places:
            self.select(target)
            self.sig_node_clicked.emit(target)
        event.accept()

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#ffffff"))
        if not self.places:
            painter.setPen(QColor("#777"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No tree for this prompt yet.")
            return
        painter.scale(self.zoom, self.zoom)
        for node_id in self.places:
            for child_id in self._children.get(node_id, []):
                if child_id in self.places:
                    self._draw_edge(painter, node_id, child_id)
        for node_id in self.places:
            self._draw_node(painter, node_id)

    # --- drawing -------------------------------------------------------------------------------
    def _box(self, node_id: str) -> QRectF:
        place = self.places[node_id]
        return QRectF(MARGIN + place.column * (BOX_W + COLUMN_GAP), MARGIN + place.row * ROW_H, BOX_W, BOX_H)

    def _draw_edge(self, painter: QPainter, parent_id: str, child_id: str) -> None:
        start, end = self._box(parent_id), self._box(child_id)
        a = QPointF(start.right(), start.center().y())
        b = QPointF(end.left(), end.center().y())
        path = QPainterPath(a)
        bend = COLUMN_GAP / 2
        path.cubicTo(QPointF(a.x() + bend, a.y()), QPointF(b.x() - bend, b.y()), b)
        on_best = parent_id in self._best_path and child_id in self._best_path
        painter.setPen(QPen(BEST_EDGE if on_best else QColor("#b8bec8"), 2.4 if on_best else 1.2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)

    def _draw_node(self, painter: QPainter, node_id: str) -> None:
        tree_node = self.trees.by_id[node_id]
        reward = self.trees.reward(node_id)
        box = self._box(node_id)
        if tree_node.kind == "criticism":
            fill = CRITICISM_FILL
        elif reward.gain is not None:
            fill = gain_fill(reward.gain, self._largest_gain)
        else:
            fill = ANSWER_FILL
        selected = node_id == self.selected
        painter.setPen(QPen(SELECTED_PEN, 3.0) if selected else QPen(QColor("#9aa3b1"), 1.0))
        painter.setBrush(fill)
        painter.drawRoundedRect(box, 5, 5)
        inner = box.adjusted(6, 3, -6, -3)
        # line 1: kind, round, marks; the verdict at the right
        marks = ("★" if reward.best else "") + ("✎" if tree_node.is_edited else "") + \
            (REGENERATED_MARK if is_regenerated(tree_node.node) else "") + \
            ("!" if made_from_other_text(tree_node, self.trees.parent(node_id)) else "")
        round_text = f" r{tree_node.node.round}" if tree_node.node.round else ""
        title = f"{KIND_LABEL.get(tree_node.kind, tree_node.kind)}{round_text} {marks}".strip()
        painter.setFont(self._bold)
        painter.setPen(QColor("#222"))
        metrics = QFontMetrics(self._bold)
        line_h = metrics.height()
        painter.drawText(QRectF(inner.left(), inner.top(), inner.width() - 18, line_h),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, title)
        if reward.gain is not None:
            painter.setFont(self._font)
            painter.setPen(GAIN_UP if reward.gain > 0 else GAIN_DOWN)
            painter.drawText(QRectF(inner.right() - 78, inner.top(), 58, line_h),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"Δ {reward.gain:+.2f}")
        if tree_node.verdict in VERDICT_LOOK:
            glyph, colour = VERDICT_LOOK[tree_node.verdict]
            painter.setPen(colour)
            painter.drawText(QRectF(inner.right() - 18, inner.top(), 18, line_h),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, glyph[0])
        # lines 2-3: the text, elided
        painter.setFont(self._font)
        painter.setPen(QColor("#333"))
        small = QFontMetrics(self._font)
        text = " ".join(tree_node.text.split())
        cut = self._fit_chars(small, text, inner.width())
        first, rest = text[:cut], text[cut:].lstrip()
        second = small.elidedText(rest, Qt.TextElideMode.ElideRight, int(inner.width()))
        top = inner.top() + line_h
        painter.drawText(QRectF(inner.left(), top, inner.width(), small.height()),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, first)
        painter.drawText(QRectF(inner.left(), top + small.height(), inner.width(), small.height()),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, second)
        self._draw_reward_bar(painter, inner, reward)

    def _draw_reward_bar(self, painter: QPainter, inner: QRectF, reward) -> None:
        bar = QRectF(inner.left(), inner.bottom() - 6, inner.width() - 58, 5)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(BAR_TRACK)
        painter.drawRect(bar)
        if reward.reward is None:
            label = "no reward"
        else:
            low, high = self._reward_range
            share = (reward.reward - low) / (high - low)
            painter.setBrush(BAR_FILL)
            painter.drawRect(QRectF(bar.left(), bar.top(), max(2.0, bar.width() * share), bar.height()))
            label = f"R {reward.reward:.3f}"
        painter.setFont(self._font)
        painter.setPen(QColor("#444"))
        painter.drawText(QRectF(bar.right() + 4, inner.bottom() - 13, 54, 13),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)

    @staticmethod
    def _fit_chars(metrics: QFontMetrics, text: str, width: float) -> int:
        """How many characters of `text` fit on one line of `width`, broken at a space when possible."""
        if metrics.horizontalAdvance(text) <= width:
            return len(text)
        low, high = 0, len(text)
        while low < high:  # longest prefix that fits
            middle = (low + high + 1) // 2
            if metrics.horizontalAdvance(text[:middle]) <= width:
                low = middle
            else:
                high = middle - 1
        space = text.rfind(" ", 0, low)
        return space if space > low // 2 else low

    def _path_to_best(self) -> set[str]:
        best = next((node_id for node_id, r in self.trees.rewards.items() if r.best and node_id in self.places
                     and self.trees.by_id[node_id].kind == "improvement"), None)
        path: set[str] = set()
        while best:
            path.add(best)
            best = self.trees.parent_of.get(best)
        return path

    def _resize_to_content(self) -> None:
        self.setFixedSize(self.content_size())
