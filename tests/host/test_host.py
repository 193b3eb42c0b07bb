"""The run host: the window's runs execute in a process of their own.

Driven through the real window where a person would notice (a crash, Esc,
closing during a run), and through the host client where the window adds
nothing.  Waits are on signals and bounded polls of a condition; never sleeps.
"""

from __future__ import annotations

import os
import signal
import threading

import psutil
import pytest

from tests import PLUGIN_FILES

pytest.importorskip("PySide6")


from poolside.host import HostClient
from poolside.spec import JobSpec
from tests.gui_helpers import run_in_bridge
from tests.waits import WAIT_MS, WAIT_S

TASKS = str(PLUGIN_FILES / "host_tasks.py")

def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def descendants() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True) if alive(p.pid)}


def set_up(driver, tmp_path, plugin: str, names: list[str], backend: str, workers: int, **params) -> list[str]:
    """Files named ``names`` (each holding its name), the host tasks' ``plugin`` with ``params``, the backend."""
    paths = []
    for name in names:
        p = tmp_path / name
        p.write_text(name, encoding="utf-8")
        paths.append(str(p))
    driver.add_files(paths)
    assert driver.load_plugin_file(TASKS)
    driver.choose_plugin(plugin, **params)
    driver.choose_backend(backend, workers)
    return paths


def wait_until_running(qtbot, driver, threads: int) -> int:
    """The host's pid, once ``threads`` worker threads are busy in it."""
    bridge = driver.window.bridge
    qtbot.waitUntil(lambda: bridge.host_pid is not None, timeout=WAIT_MS)
    pid = bridge.host_pid
    qtbot.waitUntil(lambda: psutil.Process(pid).num_threads() >= threads + 2, timeout=WAIT_MS)
    return pid


def test_a_plugin_that_segfaults_on_threads_leaves_the_window_up_and_names_its_item(driver, tmp_path):
    names = [f"a{i}.txt" for i in range(4)] + ["boom.txt"] + [f"b{i}.txt" for i in range(6)]
    set_up(driver, tmp_path, "crash_on", names, "threads", 1)

    summary = driver.run_and_wait()

    assert driver.window.isVisible() and not driver.window.running
    outcomes = driver.outcomes()
    assert summary.total == len(names) == len(outcomes)
    assert sorted(o.index for o in outcomes) == list(range(len(names)))
    culprit = next(o for o in outcomes if o.item.endswith("boom.txt"))
    assert culprit.status == "failed"
    assert culprit.error.message.startswith("run host died (exit code -11, SIGSEGV) while running ")
    assert culprit.error.message.endswith("boom.txt")
    for o in (o for o in outcomes if o.index < 4):  # they ran before the crash
        assert o.status == "ok" or o.error.message.endswith("before this item's result reached the window")
    assert {o.status for o in outcomes if o.index > 4} == {"cancelled"}  # never started
    assert sum(summary.counts.values()) == len(names)
    # The next run gets a fresh host and works.
    driver.set_params(marker="nothing-matches")
    assert driver.run_and_wait().counts["ok"] == len(names)


@pytest.mark.parametrize("backend", ["threads", "thread-executor", "asyncio"])
def test_escape_during_a_pure_python_thread_run_ends_it_and_its_host(qtbot, driver, tmp_path, backend):
    driver.add_items(f"n{i}" for i in range(20))
    assert driver.load_plugin_file(TASKS)
    driver.choose_plugin("spin", seconds=60.0)
    driver.choose_backend(backend, 8)
    assert driver.start_run()
    old = wait_until_running(qtbot, driver, 8)

    summary = driver.press_escape_and_wait()

    assert summary.total == 20 and summary.counts["cancelled"] == 20
    assert "Cancelled" in driver.headline()
    qtbot.waitUntil(lambda: not alive(old), timeout=WAIT_MS)  # no busy thread lives on
    driver.set_params(seconds=0.0)
    assert driver.run_and_wait().counts["ok"] == 20 and driver.window.bridge.host_pid not in (None, old)


@pytest.mark.parametrize("backend", ["threads", "processes"])
def test_closing_the_window_during_a_run_leaves_no_process(qtbot, driver, backend):
    before = descendants()
    bridge = driver.window.bridge
    driver.add_items(f"n{i}" for i in range(8))
    assert driver.load_plugin_file(TASKS)
    driver.choose_plugin("spin", seconds=60.0)
    driver.choose_backend(backend, 2)
    assert driver.start_run()
    qtbot.waitUntil(lambda: len(bridge.host_pids()) >= (1 if backend == "threads" else 4), timeout=WAIT_MS)
    tree = bridge.host_pids()  # host, and on processes its forkserver and workers

    with qtbot.waitSignal(driver.window.runFinished, timeout=WAIT_MS) as blocker:
        driver.close()
    assert blocker.args[0].total == 8

    qtbot.waitUntil(lambda: not any(alive(p) for p in tree) and descendants() <= before, timeout=WAIT_MS)


def test_a_result_that_does_not_pickle_ends_failed_and_says_why(qtbot):
    summary, rows = run_in_bridge(qtbot, JobSpec(plugin=f"{TASKS}:lock_on", backend="threads", workers=2),
                                  ["a", "lock", "b"])
    assert summary.counts == {"ok": 2, "failed": 1, "timed_out": 0, "cancelled": 0}
    bad = next(o for o in rows if o.item == "lock")
    assert bad.status == "failed" and "cannot be sent to the window" in bad.error.message
    assert "does not pickle" in bad.error.message and bad.value is None


def test_a_host_killed_mid_run_fails_its_running_items_and_cancels_the_rest():
    client = HostClient()
    done = threading.Event()
    got: list = []
    finished: list = []
    spec = JobSpec(plugin=f"{TASKS}:spin", params={"seconds": 60.0}, backend="threads", workers=2)
    try:
        run = client.run(spec, [f"n{i}" for i in range(5)], on_outcomes=got.extend,
                         on_finish=lambda s: (finished.append(s), done.set()), on_error=print)
        pid = client.host_pid
        for _ in range(10_000):  # bounded: until both threads have started an item
            if run.marks[:5].count(1) == 2:
                break
            done.wait(0.01)
        os.kill(pid, signal.SIGKILL)  # as the OOM killer would
        assert done.wait(WAIT_S)
    finally:
        client.shutdown()
    summary = finished[0]
    assert summary.counts == {"ok": 0, "failed": 2, "timed_out": 0, "cancelled": 3}
    failed = [o for o in got if o.status == "failed"]
    assert [o.error.message for o in failed] == [
        "run host died (exit code -9, SIGKILL) while running this item and 1 other"] * 2
    assert sorted(o.index for o in got) == list(range(5))


def test_a_result_the_window_cannot_unpickle_ends_failed_and_says_why(qtbot):
    summary, rows = run_in_bridge(qtbot, JobSpec(plugin=f"{TASKS}:foreign", backend="threads", workers=2),
                                  ["a", "odd", "b"])
    assert summary.counts == {"ok": 2, "failed": 1, "timed_out": 0, "cancelled": 0}
    bad = next(o for o in rows if o.item == "odd")
    assert bad.status == "failed" and bad.value is None
    assert "cannot be read in the window" in bad.error.message and "made_in_the_host.Thing" in bad.error.message


def test_a_window_run_is_recorded_in_the_history_by_its_host(driver, tmp_path):
    from poolside.history import store

    names = [f"h{i}.txt" for i in range(5)] + ["boom.txt"]
    set_up(driver, tmp_path, "crash_on", names, "processes", 2)  # on processes a crash costs one item
    summary = driver.run_and_wait()

    conn = store.connect()
    try:
        [run] = store.list_runs(conn)
        assert run["kind"] == "run" and run["state"] != "running"
        assert store.recorded_counts(conn, run["id"])["ok"] == summary.counts["ok"] == 5
        [failure] = store.failures(conn, run["id"])
        assert str(failure["item"]).endswith("boom.txt")
        assert store.get_run(conn, run["id"])["spec"]["plugin"].endswith("crash_on")
    finally:
        conn.close()


def test_outcome_messages_cross_as_columns_and_come_back_whole():
    from poolside.host.protocol import Outcomes, dumps, loads, loads_lenient
    from poolside.records import ErrorInfo, Outcome, Status

    batch = [Outcome(0, "a.txt", Status.OK, {"words": 3}, None, 0.01, 0, 0.5, 11, 12),
             Outcome(1, b"b\xff.txt", Status.FAILED, None, ErrorInfo("ValueError", "bad", "tb"), 0.02, 1, 0.6, 13, 14),
             Outcome(2, "c.txt", Status.CANCELLED, None, ErrorInfo("Cancelled", "x"))]
    for read in (loads, loads_lenient):
        back = read(dumps(Outcomes(7, batch)))
        assert type(back) is Outcomes and back.run_id == 7
        assert back.outcomes == batch and all(type(o) is Outcome for o in back.outcomes)
        assert [o.status for o in back.outcomes] == [Status.OK, Status.FAILED, Status.CANCELLED]
    assert loads(dumps(Outcomes(8, []))) == Outcomes(8, [])
