"""The light forkserver: a caller that runs threads gets workers from a lean server, and no tracker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import psutil
import pytest

from poolside.backends import _zygote
from tests import ROOT

pytestmark = pytest.mark.skipif(not _zygote.supported(), reason="the forkserver protocol needs Linux")

# What a worker never needs before its first item: the engine, psutil, the backends' base, logging.
NOT_IN_A_WORKER = ["psutil", "poolside.engine.job", "poolside.backends.base", "poolside.backends._calls", "logging"]


def _threaded_caller(body: str) -> dict:
    """Run ``body`` in a fresh Python that runs a second thread first; its last line is a JSON result."""
    script = textwrap.dedent("""
        import json, threading
        release = threading.Event()
        thread = threading.Thread(target=release.wait, args=(60,))
        thread.start()
        try:
        {body}
        finally:
            release.set()
            thread.join()
    """).format(body=textwrap.indent(textwrap.dedent(body), "    "))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_a_threaded_caller_gets_workers_from_a_lean_server_and_no_resource_tracker():
    got = _threaded_caller(f"""
        import os, psutil
        from poolside import run
        from poolside.backends.workers import default_method
        from tests.engine_tasks import module_loaded, pid_of_worker
        names = {NOT_IN_A_WORKER!r}
        loaded = sorted(o.item for o in run(module_loaded, names, backend="processes", workers=2) if o.value)
        pids = {{o.value for o in run(pid_of_worker, range(8), backend="processes", workers=2)}}
        servers = {{psutil.Process(pid).ppid() for pid in pids}}
        me = psutil.Process()
        helpers = [" ".join(p.cmdline()) for p in me.children(recursive=True) if p.pid not in pids]
        print(json.dumps({{"method": default_method(), "loaded": loaded, "servers": sorted(servers),
                          "me": os.getpid(), "helpers": helpers}}))
    """)
    assert got["method"] == "forkserver"
    assert got["loaded"] == []
    assert len(got["servers"]) == 1 and got["servers"] != [got["me"]]
    assert len(got["helpers"]) == 1 and "forkserver" in got["helpers"][0]  # the server; no resource tracker
    server = got["servers"][0]
    assert not psutil.pid_exists(server) or psutil.Process(server).status() == psutil.STATUS_ZOMBIE


def test_a_crashed_worker_is_replaced_by_the_server_and_the_culprit_named():
    got = _threaded_caller("""
        from poolside import run
        from tests.engine_tasks import exit_on_20
        job = run(exit_on_20, range(40), backend="processes", workers=2)
        outcomes = {o.item: o.status for o in job}
        print(json.dumps({"failed": sorted(i for i, s in outcomes.items() if s != "ok"), "count": len(outcomes)}))
    """)
    assert got == {"failed": [20], "count": 40}


def test_a_hung_item_times_out_and_its_worker_is_replaced_by_the_server():
    got = _threaded_caller("""
        import psutil
        from poolside import run
        from tests.engine_tasks import hang_on_5
        job = run(hang_on_5, range(12), backend="processes", workers=2, timeout=1.0)
        outcomes = {o.item: o for o in job}
        hung = outcomes[5].pid
        print(json.dumps({"timed_out": sorted(i for i, o in outcomes.items() if o.status == "timed_out"),
                          "ok": sum(o.status == "ok" for o in outcomes.values()),
                          "hung_worker_gone": not psutil.pid_exists(hung)
                          or psutil.Process(hung).status() == psutil.STATUS_ZOMBIE}))
    """)
    assert got == {"timed_out": [5], "ok": 11, "hung_worker_gone": True}


def test_a_server_whose_preload_starts_a_thread_never_forks_it():
    """The task's module starts a thread at import: the server starts again without it, and serves."""
    got = _threaded_caller("""
        import psutil
        from poolside import run
        from poolside.backends import _forkserver
        from tests.backends.thread_at_import import double
        values = sorted(o.value for o in run(double, range(10), backend="processes", workers=2))
        server = psutil.Process(_forkserver.pid())
        print(json.dumps({"values": values, "server_threads": server.num_threads(),
                          "task_module_in_server": "thread_at_import" in " ".join(server.cmdline())}))
    """)
    assert got == {"values": [2 * x for x in range(10)], "server_threads": 1, "task_module_in_server": False}
