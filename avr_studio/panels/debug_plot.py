"""One reward-debugging plot: a pyqtgraph plot whose points or bars can be selected with the mouse
(drag a rectangle, or click a bar or a point), a line of figures under it, and a Save menu that writes
the picture (PNG, SVG) and the data drawn (CSV)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters  # noqa: F401 - registers ImageExporter on pg.exporters
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QMenu, QToolButton, QVBoxLayout, QWidget

EXPORT_KINDS = ("png", "svg", "csv")


class SelectingViewBox(pg.ViewBox):
    """A view box where a left drag selects a rectangle (instead of panning) and a left click selects
    a point; the wheel still zooms and a right drag still scales."""

    sig_region_selected = Signal(object)
    """A rectangle was drawn (QRectF in data coordinates)."""

    sig_point_clicked = Signal(object)
    """A left click (QPointF in data coordinates)."""

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 - pyqtgraph override
        if ev.button() != Qt.MouseButton.LeftButton or axis is not None:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        if ev.isFinish():
            self.rbScaleBox.hide()
            corner_a, corner_b = self.mapToView(ev.buttonDownPos()), self.mapToView(ev.pos())
            self.sig_region_selected.emit(QRectF(corner_a, corner_b).normalized())
        else:
            self.updateScaleBox(ev.buttonDownPos(), ev.pos())

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 - pyqtgraph override
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.sig_point_clicked.emit(QPointF(self.mapToView(ev.pos())))
            return
        super().mouseClickEvent(ev)


class _PlotWidget(pg.PlotWidget):
    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        # pyqtgraph asks for 600 x 480: in the scrolled grid of plots each one then took a whole tab's
        # height, its x axis and figures below the fold. A bigger tab still stretches the plots.
        return QSize(300, 220)


class DebugPlot(QWidget):
    """Title, Save menu, plot and figures; `columns` / `rows` hold the data drawn, for CSV."""

    sig_region_selected = Signal(str, object)
    """(plot name, QRectF in data coordinates): the person selected a region."""

    sig_point_clicked = Signal(str, object)
    """(plot name, QPointF in data coordinates): the person clicked in the plot."""

    def __init__(self, name: str, title: str, x_label: str, y_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.columns: list[str] = []
        self.rows: list[tuple] = []
        self.note = ""  # a first CSV line, e.g. that the points are a sample
        self._items: dict[str, pg.GraphicsObject] = {}
        self.view_box = SelectingViewBox()
        self.plot = _PlotWidget(background="w", viewBox=self.view_box)
        self.plot.setLabel("bottom", x_label)
        self.plot.setLabel("left", y_label)
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setMinimumSize(220, 170)
        for axis in ("left", "bottom"):  # plain numbers, never "×0.001" units
            self.plot.getAxis(axis).enableAutoSIPrefix(False)
        self.title_label = QLabel(f"<b>{title}</b>", wordWrap=True)  # a long title must not widen the plot
        self.figures_label = QLabel()
        self.figures_label.setWordWrap(True)
        self.figures_label.setStyleSheet("color: #444;")
        save = QToolButton(text="Save")
        save.setToolTip("Save the picture (PNG, SVG) or the data drawn (CSV)")
        save.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        save.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(save)
        for kind in EXPORT_KINDS:
            menu.addAction(f"Save as {kind.upper()}…", lambda k=kind: self._ask_and_save(k))
        save.setMenu(menu)
        top = QHBoxLayout()
        top.addWidget(self.title_label, 1)
        top.addWidget(save)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.figures_label)
        self.view_box.sig_region_selected.connect(lambda rect: self.sig_region_selected.emit(self.name, rect))
        self.view_box.sig_point_clicked.connect(lambda point: self.sig_point_clicked.emit(self.name, point))

    # --- drawing -------------------------------------------------------------------------------
    # Each plot keeps its items and only changes their data: creating and removing items on every
    # redraw left pyqtgraph items that PySide6 destroyed only at interpreter exit, where it aborted.
    def _item(self, key: str, make):
        item = self._items.get(key)
        if item is None:
            item = self._items[key] = make()
            self.plot.addItem(item)
        item.setVisible(True)
        return item

    def clear(self) -> None:
        for item in self._items.values():
            item.setVisible(False)
        self.columns, self.rows, self.note = [], [], ""

    def draw_points(self, x: np.ndarray, y: np.ndarray, colour: str = "#3b7dd8", key: str = "points",
                    size: float = 5) -> None:
        item = self._item(key, lambda: pg.ScatterPlotItem(pen=None))
        item.setData(x=np.asarray(x, float), y=np.asarray(y, float), size=size, brush=pg.mkBrush(colour + "90"))

    def draw_bars(self, edges: np.ndarray, counts: np.ndarray, colour: str = "#2e9e5b") -> None:
        item = self._item("bars", lambda: pg.BarGraphItem(x0=[], x1=[], height=[], brush=colour, pen="w"))
        item.setOpts(x0=edges[:-1], x1=edges[1:], height=counts)

    def draw_line(self, x, y, colour: str = "#333", dashed: bool = False, width: float = 1.5,
                  key: str = "line", connect: str = "all") -> None:
        style = Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine
        item = self._item(key, pg.PlotDataItem)
        item.setData(x=np.asarray(list(x), float), y=np.asarray(list(y), float), connect=connect,
                     pen=pg.mkPen(colour, width=width, style=style))

    def draw_vertical(self, x: float, key: str = "vertical") -> None:
        item = self._item(key, lambda: pg.InfiniteLine(angle=90, pen=pg.mkPen("#888", style=Qt.PenStyle.DashLine)))
        item.setValue(x)

    def set_figures(self, text: str) -> None:
        self.figures_label.setText(text)

    def set_data(self, columns: list[str], rows: list[tuple], note: str = "") -> None:
        self.columns, self.rows, self.note = columns, rows, note

    # --- saving --------------------------------------------------------------------------------
    def save(self, path: Path | str, kind: str | None = None) -> Path:
        """Write the plot as PNG or SVG, or its data as CSV (kind from the file's extension)."""
        path = Path(path)
        kind = kind or path.suffix.lstrip(".").lower()
        if kind == "csv":
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                if self.note:
                    writer.writerow([f"# {self.note}"])
                writer.writerow(self.columns)
                writer.writerows(self.rows)
        elif kind == "svg":
            self._save_svg(path)
        elif kind == "png":
            exporter = pg.exporters.ImageExporter(self.plot.plotItem)
            exporter.parameters()["width"] = max(800, self.plot.width() * 2)
            exporter.export(str(path))
        else:
            raise ValueError(f"unknown export kind {kind!r}; use one of {EXPORT_KINDS}")
        return path

    def _save_svg(self, path: Path) -> None:
        # pyqtgraph's SVGExporter cannot parse the path data Qt 6.12 writes (it fails on every item);
        # Qt's own SVG generator draws the plot's scene as it is on screen.
        scene = self.plot.scene()
        rect = self.plot.plotItem.sceneBoundingRect()
        generator = QSvgGenerator()
        generator.setFileName(str(path))
        generator.setSize(rect.size().toSize())
        generator.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
        generator.setTitle(self.title_label.text().replace("<b>", "").replace("</b>", ""))
        painter = QPainter(generator)
        try:
            scene.render(painter, QRectF(0, 0, rect.width(), rect.height()), rect)
        finally:
            painter.end()

    def _ask_and_save(self, kind: str) -> None:
        filters = {"png": "PNG image (*.png)", "svg": "SVG picture (*.svg)", "csv": "CSV data (*.csv)"}
        path, _ = QFileDialog.getSaveFileName(self, f"Save {self.name} as {kind.upper()}",
                                              f"{self.name}.{kind}", filters[kind])
        if path:
            self.save(path, kind)
