"""A study shown live, round by round: the charts update their plot items, the table only what changed.

Driven through the StudyModel the Compare workspace feeds (no study host):
each round's numbers so far go in with ``set_round``, as the study client's
``on_round`` does, and the views are read back from their plot items and their
table model, then set against views built from scratch on the final numbers.
The configurations are a real study's (``study_fakes``), their runs scaled to
the medians each round needs.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

pytest.importorskip("PySide6")

import pyqtgraph as pg
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QTableView

from poolside.gui.study.charts import SpeedupChart
from poolside.gui.study.model import StudyModel, StudyTableModel
from poolside.gui.study.view import StudyView
from poolside.gui.widgets.value_labels import ValueLabels
from poolside.study import ConfigResult, Round
from poolside.study.recommend import fill_speedups
from poolside.study.record import fastest_first as ranked
from poolside.words.configs import FAMILY_COLORS, config_label, family

from ...study_fakes import config_of, study, timed

REAL = study()

#: Medians per round: round 2 moves processes ×2 from first to fourth (a re-sort),
#: round 3 changes threads ×4's numbers only (its row stays where it is).
ROUNDS = [
    {("sequential", 1): 2.0, ("threads", 2): 1.98, ("processes", 2): 1.04, ("mp-pool", 2): 1.10,
     ("threads", 1): 2.02, ("processes", 1): 2.05, ("threads", 4): 2.01, ("processes", 4): 1.07},
    {("sequential", 1): 2.0, ("threads", 2): 1.98, ("processes", 2): 1.20, ("mp-pool", 2): 1.10,
     ("threads", 1): 2.02, ("processes", 1): 2.05, ("threads", 4): 2.01, ("processes", 4): 1.07},
    {("sequential", 1): 2.0, ("threads", 2): 1.98, ("processes", 2): 1.20, ("mp-pool", 2): 1.10,
     ("threads", 1): 2.02, ("processes", 1): 2.05, ("threads", 4): 2.015, ("processes", 4): 1.07},
]


def configs_of(medians: dict) -> list[ConfigResult]:
    configs = [timed(config_of(REAL, b, w), m) for (b, w), m in medians.items()]
    fill_speedups(configs)
    return configs


def send(study: StudyModel, n: int, configs: list[ConfigResult]) -> None:
    study.set_round(Round(n, len(ROUNDS), configs))


def label(c: ConfigResult) -> str:
    return config_label(c.config)


def rounded(rows: list) -> list:
    return [tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in rows]


def expected_drawn(configs: list[ConfigResult]) -> dict:
    """What the chart must show, worked out from the records alone: the fastest on top."""
    order = ranked(configs)
    n = len(order)
    bars: dict[str, list] = {}
    whiskers, values = [], []
    for i, c in enumerate(order):
        y, speedup = float(n - 1 - i), c.speedup
        lo, hi = c.speedup_range()
        bars.setdefault(family(c.config.backend), []).append((y, speedup))
        whiskers.append((y, lo, hi))
        values.append((f"{speedup:.2f}×", max(hi, speedup), y))
    return {"bars": {f: rounded(sorted(rows)) for f, rows in bars.items()}, "whiskers": rounded(sorted(whiskers)),
            "values": rounded(sorted(values, key=lambda v: v[2]))}


def shown(chart: SpeedupChart) -> dict:
    """What the chart's plot items show, read back from them: per family (row, bar length), the
    whiskers (row, low, high), the value labels (text, x, row), the outlined bar, the x range."""
    family_of = {QColor(c).name(): f for f, c in FAMILY_COLORS.items()}
    bars: dict[str, list] = {}
    whiskers, values, outline = [], [], []
    for item in chart.getPlotItem().items:
        if not item.isVisible():
            continue
        if isinstance(item, (pg.BarGraphItem, pg.ErrorBarItem)):
            o = item.opts
            column = {k: np.broadcast_to(np.asarray(o[k], dtype=float), np.shape(o["y"])).tolist()
                      for k in ("y", "x", "width", "left", "right") if o.get(k) is not None}
        if isinstance(item, pg.BarGraphItem) and item.opts["brush"] is None:
            outline += zip(column["y"], column["width"])
        elif isinstance(item, pg.BarGraphItem):
            bars.setdefault(family_of[QColor(item.opts["brush"]).name()], []).extend(zip(column["y"], column["width"]))
        elif isinstance(item, pg.ErrorBarItem):
            whiskers += [(y, x - left, x + right) for y, x, left, right in
                         zip(column["y"], column["x"], column["left"], column["right"])]
        elif isinstance(item, ValueLabels):
            values += [(t, x, y) for t, (x, y) in zip(item.texts(), item.points())]
    return {"bars": {f: rounded(sorted(rows)) for f, rows in bars.items()}, "whiskers": rounded(sorted(whiskers)),
            "values": rounded(sorted(values, key=lambda v: v[2])), "outline": rounded(outline),
            "x_range": [round(v, 9) for v in chart.getPlotItem().viewRange()[0]]}


def data_items(chart: SpeedupChart) -> list:
    """The plot items that draw the configurations (bars, whiskers, labels)."""
    kinds = (pg.BarGraphItem, pg.ErrorBarItem, pg.TextItem, ValueLabels)
    return [item for item in chart.getPlotItem().items if isinstance(item, kinds)]


def without_layout(drawn: dict) -> dict:
    return {k: v for k, v in drawn.items() if k in ("bars", "whiskers", "values")}


@pytest.fixture
def view(qtbot):
    v = StudyView(StudyModel())
    qtbot.addWidget(v)
    v.resize(1000, 700)
    v.show()
    return v


def test_each_round_updates_the_same_plot_items_to_the_medians_and_ranges(qtbot, view):
    chart, scaling = view.chart, view.scaling
    items = lines = None
    for n, medians in enumerate(ROUNDS, start=1):
        configs = configs_of(medians)
        send(view.study, n, configs)
        # bars = median speed-ups, whiskers = min-max, each value beside its bar
        qtbot.waitUntil(lambda c=configs: without_layout(shown(chart)) == expected_drawn(c))
        assert chart.labels() == [label(c) for c in ranked(configs)]  # the names on the axis
        series = {b: [(float(w), s) for w, s in pts] for b, pts in scaling.series.items()}
        assert {b: list(zip(line.xData.tolist(), line.yData.tolist())) for b, line in scaling.lines().items()} == series
        if items is None:  # the first round makes them ...
            items, lines = data_items(chart), scaling.lines()
        else:  # ... every later one feeds them new arrays
            assert len(data_items(chart)) == len(items)
            assert all(now is then for now, then in zip(data_items(chart), items))
            assert all(scaling.lines()[b] is lines[b] for b in lines)
    fresh = SpeedupChart()
    qtbot.addWidget(fresh)
    fresh.set_configs(view.study.configs())
    assert shown(chart) == shown(fresh)  # the live chart ends where one built from scratch starts
    assert chart.labels() == fresh.labels()


def test_the_final_record_outlines_the_recommendation_in_the_same_items(qtbot, view):
    configs = configs_of(ROUNDS[-1])
    send(view.study, 1, configs)
    qtbot.waitUntil(lambda: view.chart.bar_count == len(configs))
    items = data_items(view.chart)
    assert REAL.recommendation is not None and label(configs[2]) == "processes ×2"
    record = dataclasses.replace(REAL, configs=configs,
                                 recommendation=dataclasses.replace(REAL.recommendation, config=configs[2].config))
    view.study.finish(record)  # drawn at once, with the recommendation outlined
    outlined = [row for row, name in enumerate(view.chart.labels()) if name == "processes ×2"]
    y = float(len(configs) - 1 - outlined[0])
    assert shown(view.chart)["outline"] == rounded([(y, configs[2].speedup)])
    after = data_items(view.chart)
    assert len(after) == len(items) + 1 and all(any(it is now for now in after) for it in items)  # + the outline
    fresh = SpeedupChart()
    qtbot.addWidget(fresh)
    fresh.set_configs(configs, highlight=configs[2].config)
    assert shown(view.chart) == shown(fresh)


def texts(model: StudyTableModel) -> list[list[str]]:
    return [[model.index(r, c).data() for c in range(model.columnCount())] for r in range(model.rowCount())]


def test_the_table_tells_its_views_only_what_changed(qtbot):
    study = StudyModel()
    model = StudyTableModel(study)
    table = QTableView()
    qtbot.addWidget(table)
    table.setModel(model)
    seen: list = []
    model.modelReset.connect(lambda: seen.append("reset"))
    model.layoutChanged.connect(lambda *_: seen.append("resort"))
    model.rowsInserted.connect(lambda _p, first, last: seen.append(("inserted", first, last)))
    model.dataChanged.connect(lambda top, bottom, *_: seen.append(("changed", top.row(), bottom.row())))

    send(study, 1, configs_of(ROUNDS[0]))
    assert seen == ["reset"]  # the first rows
    row = [label(model.config(r)) for r in range(model.rowCount())].index("processes ×2")
    table.selectionModel().select(model.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                                  | QItemSelectionModel.SelectionFlag.Rows)

    seen.clear()
    send(study, 2, configs_of(ROUNDS[1]))  # processes ×2 slows down: a re-sort and its new numbers
    new_row = [label(model.config(r)) for r in range(model.rowCount())].index("processes ×2")
    assert new_row != row and seen == ["resort", ("changed", new_row, new_row)]
    selected = table.selectionModel().selectedRows()
    assert [label(model.config(i.row())) for i in selected] == ["processes ×2"]  # the selection followed it

    seen.clear()
    send(study, 3, configs_of(ROUNDS[2]))  # one configuration's numbers, same order
    moved = [label(model.config(r)) for r in range(model.rowCount())].index("threads ×4")
    assert seen == [("changed", moved, moved)]
    assert model.config(moved).median_s == pytest.approx(2.015)

    seen.clear()
    send(study, 4, configs_of(ROUNDS[2]))  # a round that changed nothing changes nothing
    assert seen == []

    seen.clear()
    newcomer = configs_of({**ROUNDS[2], ("mp-pool", 4): 1.5})  # a configuration measured for the first time
    send(study, 5, newcomer)
    rank = [label(c) for c in ranked(study.configs())].index("mp-pool ×4")
    assert seen == [("inserted", rank, rank)]

    scratch = StudyModel()
    scratch.finish(dataclasses.replace(REAL, configs=study.configs()))
    reference = StudyTableModel(scratch)  # the same numbers, tabled from scratch
    assert texts(model) == texts(reference)
    tooltip = Qt.ItemDataRole.ToolTipRole
    assert [model.index(r, 0).data(tooltip) for r in range(model.rowCount())] == \
        [reference.index(r, 0).data(tooltip) for r in range(reference.rowCount())]


def test_the_number_columns_widen_for_a_longer_number_during_a_study(qtbot, view):
    send(view.study, 1, configs_of(ROUNDS[0]))
    header, table = view.table.horizontalHeader(), view.table
    model = view.table_model
    problems = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())].index("Problems")
    before = max(table.sizeHintForIndex(view.table_model.index(r, problems)).width()
                 for r in range(view.table_model.rowCount()))
    failing = configs_of(ROUNDS[0])
    last = failing[3].runs[-1]
    failing[3].runs[-1] = dataclasses.replace(last, counts={**last.counts, "failed": 123_456_789})
    send(view.study, 2, failing)
    row = [view.table_model.config(r).problems for r in range(view.table_model.rowCount())].index(123_456_789)
    need = table.sizeHintForIndex(view.table_model.index(row, problems)).width()
    assert need > before and header.sectionSize(problems) >= need  # the longer count is not cut short

