"""Attaching to a program that is already running: ``Session.attach`` (what ``observe --pid`` runs)."""

from __future__ import annotations

import subprocess
import sys

import psutil
import pytest

from poolside.cli.main import main
from poolside.observe.session import ObserveError, Session
from tests.observe.conftest import PROGRAMS, observer_threads, roles
from tests.waits import WAIT_S


@pytest.fixture
def running():
    """``running.py``: a Pool of 2 working until its stdin closes; ready once it printed "ready"."""
    proc = subprocess.Popen([sys.executable, "running.py"], cwd=PROGRAMS, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait(WAIT_S)


def test_attach_sees_the_pool_until_the_program_ends(running):
    session = Session.attach(running.pid, interval_s=0.1)
    try:
        # Until the observer has seen the pool's workers run for a while (a sample count, not a time).
        while session.observer.samples < 8 or len(session.observer.processes) < 3:
            assert not session.wait(0.1)
    finally:
        assert running.stdin is not None
        running.stdin.close()  # the program ends on its own
    assert session.wait(WAIT_S)
    assert running.wait(WAIT_S) == 0  # untouched: it ended as it would have
    record = session.record()
    assert record["exit_code"] is None  # not our child: its parent has its exit status
    assert roles(record) == [("main", None), ("worker", "multiprocessing.Pool"), ("worker", "multiprocessing.Pool")]
    assert record["verdict"]["kind"] == "cpu-parallel", record["verdict"]
    assert observer_threads() == []


def test_stopping_an_attached_observation_leaves_the_program_running(running):
    session = Session.attach(running.pid, interval_s=0.1)
    while session.observer.samples < 2:
        assert not session.wait(0.1)
    session.stop()
    assert session.wait(WAIT_S)
    assert observer_threads() == []
    assert psutil.Process(running.pid).status() != psutil.STATUS_ZOMBIE and running.poll() is None
    assert session.record()["processes"][0]["role"] == "main"


def test_attach_to_no_such_process_says_so(capsys):
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(WAIT_S)  # its pid is free now
    with pytest.raises(ObserveError, match=f"no process {proc.pid} is running"):
        Session.attach(proc.pid)
    assert main(["observe", "--pid", str(proc.pid)]) == 2
    assert f"no process {proc.pid} is running" in capsys.readouterr().err
