"""The window's hand-off from other threads (BatchPump), and its RunBridge over a real run host."""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("PySide6")

from poolside.gui.bridge import RunBridge
from poolside.gui.pump import BatchPump
from tests.waits import WAIT_S


def test_pump_delivers_everything_from_another_thread_in_batches(qtbot):
    pump = BatchPump(interval_ms=10)
    got: list[int] = []
    batches: list[int] = []
    pump.batchReady.connect(lambda b: (got.extend(b), batches.append(len(b))))
    pump.start()
    push, close = pump.sink()

    def produce():
        for start in range(0, 20_000, 100):
            push(list(range(start, start + 100)))
        close("done")

    with qtbot.waitSignal(pump.drained) as blocker:
        threading.Thread(target=produce).start()
    assert blocker.args == ["done"]
    assert got == list(range(20_000))
    assert len(batches) < 200  # coalesced: fewer signals than pushes
    assert not pump.active


def test_pump_ignores_a_producer_from_an_earlier_generation(qtbot):
    pump = BatchPump(interval_ms=10)
    got: list = []
    pump.batchReady.connect(got.extend)
    pump.start()
    old_push, old_close = pump.sink()
    pump.start()  # a new run
    push, close = pump.sink()
    old_push(["stale"])
    old_close("stale")
    push(["fresh"])
    with qtbot.waitSignal(pump.drained) as blocker:
        close("new")
    assert got == ["fresh"]
    assert blocker.args == ["new"]


def test_pump_sizes_batches_to_fit_its_time_budget(qtbot):
    pump = BatchPump(budget_ms=10, min_batch=10, max_batch=50_000)
    first = pump._cap
    for _ in range(20):
        pump._learn(1_000, 0.1)  # 0.1 ms an item: 100 items fit 10 ms
    assert pump._cap < first and 100 <= pump._cap <= 110
    for _ in range(40):
        pump._learn(1_000, 0.000001)  # nearly free: up to the ceiling
    assert pump._cap > 40_000


def test_pump_takes_a_tick_that_overran_its_budget_down_at_once(qtbot):
    pump = BatchPump(budget_ms=8, min_batch=10, max_batch=50_000)
    for _ in range(40):
        pump._learn(1_000, 0.000001)  # cheap rows: the cap grows to its ceiling
    pump._learn(pump._cap, pump._cap * 0.0001)  # then rows cost 0.1 ms each (a sorted table)
    assert pump._cap == 80  # 8 ms of them at once, not halfway there


@pytest.fixture
def make_bridge():
    made: list[RunBridge] = []

    def make(**kwargs) -> RunBridge:
        made.append(RunBridge(**kwargs))
        return made[-1]

    yield make
    for bridge in made:
        bridge.shutdown()  # its run host ends with it


def test_bridge_streams_a_real_run_in_order_of_arrival_and_finishes(qtbot, make_bridge):
    bridge = make_bridge(interval_ms=10)
    rows: list = []
    bridge.outcomesReady.connect(rows.extend)
    with qtbot.waitSignal(bridge.finished) as blocker:
        bridge.start(abs, list(range(-2_000, 0)), backend="threads", workers=2)
        assert bridge.running
    summary = blocker.args[0]
    assert summary.total == 2_000 and summary.counts["ok"] == 2_000
    assert sorted(o.value for o in rows) == list(range(1, 2_001))
    assert bridge.progress.done == 2_000
    assert not bridge.running


def test_bridge_start_refuses_a_second_run_and_reports_bad_options(qtbot, make_bridge):
    bridge = make_bridge(interval_ms=10)
    with qtbot.waitSignal(bridge.startFailed) as blocker:
        bridge.start(abs, [1], backend="no-such-backend")
    assert isinstance(blocker.args[0], ValueError) and "no-such-backend" in str(blocker.args[0])
    assert not bridge.running
    with qtbot.waitSignal(bridge.finished):
        bridge.start(abs, [1, -2], backend="threads")
        with pytest.raises(RuntimeError):
            bridge.start(abs, [1], backend="threads")


def test_bridge_wait_delivers_the_rest_and_finishes(qtbot, make_bridge):
    bridge = make_bridge(interval_ms=10_000)  # the timer alone would not get there
    rows: list = []
    finished: list = []
    bridge.outcomesReady.connect(rows.extend)
    bridge.finished.connect(finished.append)
    bridge.start(abs, list(range(500)), backend="threads", workers=2)
    assert bridge.wait(timeout=WAIT_S)
    assert len(rows) == 500 and len(finished) == 1 and not bridge.running
