"""The CPU views, fed synthetic samples and outcomes: what each data item draws."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySide6")

from PySide6.QtGui import QImage, QPainter

from poolside.gui.widgets.cores_panel import LIVE, RUN, CoresPanel, usage_text
from poolside.gui.widgets.cpu_history import CoresPlot, MachinePlot
from poolside.gui.widgets.timeline import TimelinePlot
from poolside.gui.widgets.worker_usage import WorkerUsage, gil_text
from poolside.records import Outcome, Status


def samples(n: int = 40, cores: int = 4, interval: float = 0.25) -> dict:
    t = np.arange(1, n + 1) * interval
    user = np.linspace(10, 60, n)
    system = np.full(n, 5.0)
    core_user = np.tile(np.linspace(0, 90, cores), (n, 1))
    core_system = np.full((n, cores), 8.0)
    return {"t": t, "user": user, "system": system, "tree_cpu": np.full(n, 30.0), "tree_rss": np.full(n, 2e8),
            "tree_uss": np.full(n, 1e8), "core_user": core_user, "core_system": core_system, "cores": cores}


def tick_labels(plot, name: str = "left") -> list[str]:
    """The tick labels the axis actually draws at its current size (pyqtgraph drops some)."""
    axis = plot.getPlotItem().getAxis(name)
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [text for _rect, _flags, text in specs[2]]


def test_machine_plot_stacks_user_on_system_and_draws_poolsides_share_apart(qtbot):
    plot = MachinePlot()
    qtbot.addWidget(plot)
    data = samples()
    data["tree_cpu"][3] = 130.0  # a rounding overshoot never draws past the top
    data["user"][5] = np.nan  # the first sample of a series has no rate
    plot.set_data(data, live=True)
    drawn = plot.drawn()
    assert drawn["busy"] == pytest.approx(np.nan_to_num(data["user"]) + data["system"])
    assert drawn["system"] == pytest.approx(data["system"])
    assert drawn["share"].max() == 100.0 and drawn["share"][0] == 30.0
    x = plot.busy.getData()[0]
    assert x[-1] == 0.0 and x[0] == pytest.approx(-(len(x) - 1) * 0.25)  # seconds before now
    assert plot.getPlotItem().getViewBox().viewRange()[0] == pytest.approx([-60.0, 0.0])
    plot.set_data(data, live=False)
    assert plot.getPlotItem().getViewBox().viewRange()[0] == pytest.approx([0.0, 10.0])


def test_percent_axes_always_label_0_and_100_even_when_short(qtbot):
    plot = MachinePlot()
    qtbot.addWidget(plot)
    plot.resize(300, 110)
    plot.show()
    qtbot.waitExposed(plot)
    plot.set_data(samples(), live=True)
    labels = tick_labels(plot)
    assert "0" in labels and "100" in labels


def test_core_lanes_stack_system_and_user_one_item_per_colour(qtbot):
    plot = CoresPlot(4)
    qtbot.addWidget(plot)
    assert not plot.heatmap
    data = samples(cores=4)
    data["core_user"][:, 3] = 99.0  # user + system past 100: clipped to the lane
    plot.set_data(data, live=False)
    drawn = plot.drawn()
    n = len(data["t"])
    assert len(drawn["user"]) == len(drawn["system"]) == 4 * n  # every lane in one item per colour
    user = drawn["user"].reshape(4, n)
    system = drawn["system"].reshape(4, n)
    assert system == pytest.approx(np.full((4, n), 8.0))
    assert user[1] == pytest.approx(data["core_user"][:, 1])
    assert np.all(user[3] + system[3] <= 100.0)
    # Lanes never overlap: core 0 on top, each 0..100 in its own band.
    y0 = plot.user.opts["y0"].reshape(4, n)
    assert y0[0, 0] > y0[1, 0] > y0[2, 0] > y0[3, 0] >= 0


def test_many_cores_become_a_heat_map_with_core_0_on_top(qtbot):
    plot = CoresPlot(32)
    qtbot.addWidget(plot)
    assert plot.heatmap
    data = samples(n=20, cores=32)
    data["core_user"][:, 0] = 92.0
    plot.set_data(data, live=True)
    image = plot.drawn()["image"]
    assert image.shape == (32, 20)
    assert image[-1] == pytest.approx(np.full(20, 100.0))  # core 0: 92 user + 8 system, bottom row of the array
    assert image[0, 0] == pytest.approx(data["core_user"][0, 31] + 8.0)


def test_worker_usage_draws_each_process_and_busy_threads_against_cores_used(qtbot):
    view = WorkerUsage()
    qtbot.addWidget(view)
    t = np.arange(1, 21) * 0.25
    host = {"pid": 1, "role": "host", "name": "python", "t": t, "cpu": np.full(20, 100.0),
            "rss": np.full(20, 300 * 2**20), "uss": np.full(20, np.nan)}
    series = {"t": t, "tree_rss": np.full(20, 300 * 2**20), "processes": [host], "peak_memory": 310 * 2**20}
    view.set_series(series, busy=np.full(20, 8.0))
    drawn = view.drawn()
    assert drawn["host_cpu"][:20] == pytest.approx(np.ones(20))  # cores, not per cent
    assert drawn["threads"] == pytest.approx(np.full(20, 8.0))
    assert view.headline_text().startswith("8 threads busy, 1.0 core used")
    assert "310.0 MiB" in view.headline_text()

    workers = [{"pid": 10 + i, "role": "worker", "name": "python", "t": t, "cpu": np.full(20, 90.0),
                "rss": np.full(20, 50 * 2**20), "uss": np.full(20, np.nan)} for i in range(3)]
    helper = {"pid": 9, "role": "helper", "name": "python", "t": t, "cpu": np.zeros(20),
              "rss": np.full(20, 20 * 2**20), "uss": np.full(20, np.nan)}
    view.set_series({**series, "processes": [host, helper, *workers]}, busy=None)
    drawn = view.drawn()
    # Three workers in one item, NaN between them; the forkserver is not a worker.
    assert len(drawn["worker_cpu"]) == 3 * 21 and np.isnan(drawn["worker_cpu"][20])
    assert np.nanmax(drawn["worker_mem"]) == pytest.approx(50.0)
    assert len(drawn["threads"]) == 0
    assert view.headline_text().startswith("3 worker processes: 2.7 cores avg")


def test_gil_text_reads_as_a_person_would_say_it():
    assert gil_text(8, 1.0) == "8 threads busy, 1.0 core used"
    assert gil_text(1, 0.97) == "1 thread busy, 1.0 core used"
    assert gil_text(4, 3.6) == "4 threads busy, 3.6 cores used"


def outcome(i: int, start: float, dur: float, worker: int, status: Status = Status.OK) -> Outcome:
    return Outcome(i, f"item{i}.txt", status, elapsed_s=dur, worker=worker, started_s=start, pid=1, tid=worker)


def test_timeline_draws_start_up_and_pales_bars_that_shared_one_core(qtbot):
    plot = TimelinePlot(redraw_ms=10_000)
    qtbot.addWidget(plot)
    plot.reset(4)
    # Four threads, each starting after its own start-up, busy from 0.5 s to 2.5 s.
    batch = [outcome(w * 10 + k, 0.5 + 0.1 * w + k * 0.5, 0.5, w) for w in range(4) for k in range(4)]
    batch.append(outcome(99, 0.0, 0.0, 0, Status.CANCELLED)._replace(started_s=None, worker=None))
    plot.add(batch)
    assert plot.startup() == pytest.approx([0.5, 0.6, 0.7, 0.8])
    # The process used one core while four threads were busy: every bar is GIL-bound.
    t = np.arange(1, 13) * 0.25
    plot.set_process_cpu(t, np.full(12, 1.0), 0.25)
    plot.redraw()
    assert plot.contended()[:16].sum() >= 12
    pale = sum(len(b.opts["x0"]) for b in plot._pale)
    solid = sum(len(b.opts["x0"]) for b in plot._bars)
    assert pale + solid == 16 and pale >= 12
    assert len(plot._startup.opts["x0"]) == 4
    # With four cores for four threads nothing is pale.
    plot.set_process_cpu(t, np.full(12, 4.0), 0.25)
    plot.redraw()
    assert sum(len(b.opts["x0"]) for b in plot._pale) == 0


def test_timeline_hover_names_the_item_its_status_and_times(qtbot):
    plot = TimelinePlot(redraw_ms=10_000)
    qtbot.addWidget(plot)
    plot.resize(600, 200)
    plot.show()
    qtbot.waitExposed(plot)
    plot.reset(2)
    plot.add([outcome(0, 0.1, 0.4, 0), outcome(1, 0.2, 0.3, 1, Status.TIMED_OUT)])
    plot.redraw()
    slot = plot.bar_at(0.35, 1.0)
    assert slot is not None
    text = plot.describe_bar(slot)
    assert "item1.txt" in text and "timed out on worker 1" in text and "0.200 s → 0.500 s" in text
    assert plot.bar_at(0.05, 1.0) is None  # before the bar: its start-up, not an item


def test_timeline_hint_never_covers_an_axis(qtbot):
    plot = TimelinePlot()
    qtbot.addWidget(plot)
    plot.resize(500, 220)
    plot.show()
    qtbot.waitExposed(plot)
    hint = plot._empty.geometry()
    view = plot.mapFromScene(plot.getPlotItem().getViewBox().sceneBoundingRect()).boundingRect()
    item = plot.getPlotItem()
    left, bottom = (plot.mapFromScene(item.mapRectToScene(item.getAxis(name).geometry())).boundingRect()
                    for name in ("left", "bottom"))
    assert view.contains(hint)
    assert not hint.intersects(left.adjusted(0, 0, -1, 0)) and not hint.intersects(bottom.adjusted(0, 1, 0, 0))


def test_cores_panel_keeps_the_run_on_screen_when_it_ends(qtbot):
    panel = CoresPanel()
    qtbot.addWidget(panel)
    data = samples(cores=panel.per_core.cores)
    panel.show_recent(data)
    assert panel.mode.currentText() == LIVE
    assert "machine" in panel.usage.text() and "Poolside 30 %" in panel.usage.text()
    run = {**data, "processes": [], "ended": None, "peak_memory": 3e8}
    panel.run_started()
    panel.show_run(run)
    assert panel.mode.currentText() == LIVE  # still running: the present
    panel.show_run({**run, "ended": 12.0})
    assert panel.mode.currentText() == RUN  # ended: the whole run stays
    assert panel.peak_memory() == 3e8


def test_usage_text_says_what_is_known():
    assert usage_text({}) == ""
    text = usage_text({"user": 40.0, "system": 9.0, "tree_cpu": 25.0, "memory": 2**30, "peak_memory": 2**31})
    assert text == "machine 49 % · Poolside 25 % · 1.0 GiB (run peak 2.0 GiB)"
    assert usage_text({"user": np.nan, "system": np.nan, "tree_cpu": np.nan}).startswith("machine – %")
