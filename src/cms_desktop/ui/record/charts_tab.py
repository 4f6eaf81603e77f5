"""The Courbes tab: one measurement at a time over a dd/mm/yyyy date axis (BP as two series)."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCharts import QChart, QChartView, QDateTimeAxis, QLineSeries, QValueAxis
from PySide6.QtCore import QDateTime, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from cms_desktop.services.patient_file import SERIES_LABELS

# Selector entry -> the series drawn together.
CHARTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("weight", "Poids (kg)", ("weight",)),
    ("bmi", "IMC (kg/m²)", ("bmi",)),
    ("bp", "Pression artérielle (mmHg)", ("systolic", "diastolic")),
    ("heart_rate", "Fréquence cardiaque (/min)", ("heart_rate",)),
    ("hba1c", "HbA1c (%)", ("hba1c",)),
    ("glucose", "Glycémie (g/L)", ("glucose",)),
    ("temperature", "Température (°C)", ("temperature",)),
    ("spo2", "SpO2 (%)", ("spo2",)),
)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class ChartsTab(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._series: dict[str, list[tuple[datetime, float]]] = {}
        self.selector = QComboBox(self)
        self.selector.setObjectName("chartSelector")
        for key, label, _ in CHARTS:
            self.selector.addItem(self.tr(label), key)
        self.selector.currentIndexChanged.connect(lambda _i: self._draw())
        self.view = QChartView(self)
        self.view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.empty = QLabel(self)
        self.empty.setObjectName("hint")
        caption = QLabel(self.tr("&Mesure :"), self)
        caption.setBuddy(self.selector)
        row = QHBoxLayout()
        row.addWidget(caption)
        row.addWidget(self.selector)
        row.addWidget(self.empty, 1)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(row)
        box.addWidget(self.view, 1)

    def set_series(self, series: dict[str, list[tuple[datetime, float]]]) -> None:
        self._series = series
        # Open on the first measurement that has data.
        for i, (_key, _label, keys) in enumerate(CHARTS):
            if any(series.get(k) for k in keys):
                if self.selector.currentIndex() != i:
                    self.selector.setCurrentIndex(i)
                    return
                break
        self._draw()

    def chart(self) -> QChart:
        return self.view.chart()

    def _draw(self) -> None:
        key = self.selector.currentData()
        _, title, keys = next(c for c in CHARTS if c[0] == key)
        chart = QChart()
        chart.setTitle(title)
        chart.legend().setVisible(len(keys) > 1)
        x_axis = QDateTimeAxis()
        x_axis.setFormat("dd/MM/yyyy")
        x_axis.setTitleText(self.tr("Date"))
        y_axis = QValueAxis()
        y_axis.setLabelFormat("%.1f")
        chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)
        points = [p for k in keys for p in self._series.get(k, [])]
        for k in keys:
            line = QLineSeries()
            line.setName(SERIES_LABELS[k][0])
            line.setPointsVisible(True)
            for moment, value in self._series.get(k, []):
                line.append(_ms(moment), value)
            chart.addSeries(line)
            line.attachAxis(x_axis)
            line.attachAxis(y_axis)
        if points:
            first, last = min(p[0] for p in points), max(p[0] for p in points)
            low, high = min(p[1] for p in points), max(p[1] for p in points)
            pad = max((high - low) * 0.1, 1.0)
            x_axis.setRange(
                QDateTime.fromMSecsSinceEpoch(_ms(first) - 86_400_000 * 15),
                QDateTime.fromMSecsSinceEpoch(_ms(last) + 86_400_000 * 15),
            )
            y_axis.setRange(low - pad, high + pad)
            y_axis.setLabelFormat("%.0f" if high >= 20 else "%.1f")
            y_axis.applyNiceNumbers()
            self.empty.setText(self.tr("%n mesure(s)", "", len(points)))
        else:
            # No axis at all rather than an empty one starting on 01/01/1970.
            x_axis.setVisible(False)
            y_axis.setVisible(False)
            self.empty.setText(self.tr("Aucune mesure enregistrée pour ce patient."))
        old = self.view.chart()
        self.view.setChart(chart)
        if old is not None and old is not chart:
            old.deleteLater()
