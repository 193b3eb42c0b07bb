"""Observing another user's processes, as an unprivileged user: what is seen, and what is named as not seen.

Measured here first (as ``nobody``, on a root-owned tree): every /proc file
observe reads is readable for another user's process (``stat``, ``cmdline``,
``task/``, each thread's ``stat``, ``schedstat``, ``comm`` and ``children``);
only ``io``, ``environ``, ``smaps_rollup`` and ``fd/`` are denied, and observe
reads none of them.  So on a plain /proc another user's program is seen in
full.  What hides it is a /proc mounted with ``hidepid``: ``noaccess`` (1)
denies the files, ``invisible`` (2) removes the entries.  These tests mount
one in a mount namespace of their own (``unshare``), as root, and observe in it.

The observer runs as ``nobody`` through the real CLI (``poolside observe
--pid``).  Not with ``subprocess``'s ``user=``: the interpreter lives in a
folder only root may enter here, so the process starts as root, imports what
the observation needs, then gives up root for good (``setuid``) before it
looks at any process.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from poolside.observe import procfs
from poolside.observe.session import Session
from tests.observe.conftest import PROGRAMS, observer_threads, roles
from tests.waits import WAIT_S

pytestmark = pytest.mark.skipif(not procfs.available(), reason="observe reads Linux's /proc")

#: Imports everything an observation uses (the stdlib's folder is root's only here), drops to the
#: user given, then runs the CLI.
AS_USER = """
import os, sys
uid = int(sys.argv.pop(1))
import copy, importlib.metadata, json, platformdirs, psutil
from poolside.cli.main import main
import poolside.cli.observe, poolside.observe.export, poolside.observe.record, poolside.observe.session
import poolside.history.observations, poolside.history.store, poolside.serialize, poolside.system
os.setgroups([])
os.setgid(uid)
os.setuid(uid)
assert os.geteuid() == uid and os.getuid() == uid
sys.exit(main(sys.argv[1:]))
"""


def _nobody() -> int | None:
    try:
        return pwd.getpwnam("nobody").pw_uid
    except KeyError:
        return None


@pytest.fixture
def as_nobody() -> Iterator[dict[str, Any]]:
    """A folder of nobody's own (its history and its --json go there), and its uid."""
    uid = _nobody()
    if os.geteuid() != 0 or uid is None:
        pytest.skip("needs root, to observe as the unprivileged user nobody")
    home = Path(tempfile.mkdtemp(prefix="poolside-nobody-"))
    os.chown(home, uid, uid)
    try:
        yield {"uid": uid, "home": home}
    finally:
        shutil.rmtree(home)


def _observe_as(user: dict[str, Any], pid: int, *, hidepid: int | None = None) -> subprocess.Popen:
    """``poolside observe --pid PID --json`` as ``user``, in a /proc mounted with ``hidepid`` if given."""
    argv = [sys.executable, "-c", AS_USER, str(user["uid"]), "observe", "--interval", "0.1",
            "--json", str(user["home"] / "obs.json"), "--pid", str(pid)]
    if hidepid is not None:
        argv = ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
                f'mount -t proc -o hidepid={hidepid} proc /proc && exec "$0" "$@"', *argv]
    env = dict(os.environ, POOLSIDE_HOME=str(user["home"] / "poolside"), HOME=str(user["home"]))
    return subprocess.Popen(argv, cwd=user["home"], env=env, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


def _announced(observer: subprocess.Popen) -> str:
    """Until the observer says it observes (it has looked at the process by then); what it said."""
    assert observer.stderr is not None
    said = []
    for line in observer.stderr:
        said.append(line)
        if line.startswith("observing process"):
            return "".join(said)
    observer.wait(WAIT_S)
    pytest.fail(f"the observer ended (exit code {observer.returncode}) without observing:\n{''.join(said)}")


def _needs_unshare() -> None:
    """Skip unless a /proc with hidepid can be mounted in a mount namespace of its own (root, unshare)."""
    if shutil.which("unshare") is not None:
        probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "--", "mount", "-t", "proc",
                                "-o", "hidepid=1", "proc", "/proc"], capture_output=True, text=True, check=False)
        if probe.returncode == 0:
            return
    pytest.skip("needs unshare and the right to mount a /proc in a mount namespace of its own")


@pytest.fixture
def pool_on_go() -> Iterator[subprocess.Popen]:
    """A root-owned pool of 2 that works once told to (a line on its stdin), then ends."""
    proc = subprocess.Popen([sys.executable, "pool_on_go.py"], cwd=PROGRAMS, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait(WAIT_S)


def test_another_users_program_is_seen_in_full(as_nobody, pool_on_go):
    observer = _observe_as(as_nobody, pool_on_go.pid)
    try:
        _announced(observer)
        assert pool_on_go.stdin is not None
        pool_on_go.stdin.write("go\n")
        pool_on_go.stdin.close()
        err = observer.communicate(timeout=WAIT_S)[1]
    finally:
        if observer.poll() is None:
            observer.kill()
            observer.wait(WAIT_S)
    assert pool_on_go.wait(WAIT_S) == 0  # untouched
    assert observer.returncode == 0, err
    record = json.loads((as_nobody["home"] / "obs.json").read_text(encoding="utf-8"))
    assert roles(record) == [("main", None), ("worker", "multiprocessing.Pool"), ("worker", "multiprocessing.Pool")]
    for p in record["processes"]:  # its CPU, memory and threads, each thread's run-queue wait too
        assert p["peak_rss_mb"] > 0 and p["threads"] and all(t["name"] for t in p["threads"])
    assert all(p["cpu_s"] > 0 for p in record["processes"] if p["role"] == "worker")
    assert record["verdict"]["kind"] == "cpu-parallel", record["verdict"]
    assert "not_seen" not in record["verdict"]["evidence"]  # nothing it reads is denied to another user
    assert "could not be seen" not in err and "kept in the history" in err


@pytest.mark.parametrize("hidepid", [1, 2], ids=["noaccess", "invisible"])
def test_another_users_program_under_hidepid_is_refused_naming_what(as_nobody, hidepid):
    _needs_unshare()
    target = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)  # root's; ends with stdin
    try:
        observer = _observe_as(as_nobody, target.pid, hidepid=hidepid)
        err = observer.communicate(timeout=WAIT_S)[1]
    finally:
        assert target.stdin is not None
        target.stdin.close()
        target.wait(WAIT_S)
    assert observer.returncode == 2, err  # as for any process that cannot be observed
    assert f"process {target.pid} cannot be observed: /proc/{target.pid}" in err
    assert "another user" in err and "hidepid" in err and "no process" not in err


@pytest.mark.parametrize("hidepid", [1, 2], ids=["noaccess", "invisible"])
def test_a_hidden_child_is_named_and_the_rest_still_shown(as_nobody, hidepid):
    _needs_unshare()
    # Its parent is nobody's, its child root's: under hidepid, nobody sees the one and not the other.
    owner = subprocess.Popen([sys.executable, "owner_drops.py", str(as_nobody["uid"])], cwd=PROGRAMS,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None
        child = int(owner.stdout.readline())
        observer = _observe_as(as_nobody, owner.pid, hidepid=hidepid)
        _announced(observer)
        assert owner.stdin is not None
        owner.stdin.write("go\n")
        owner.stdin.close()
        err = observer.communicate(timeout=WAIT_S)[1]
    finally:
        if owner.poll() is None:
            owner.kill()
        owner.wait(WAIT_S)
    assert owner.returncode == 0 and observer.returncode == 0, err
    record = json.loads((as_nobody["home"] / "obs.json").read_text(encoding="utf-8"))
    main, = record["processes"]  # what can be seen: the main process, its CPU and its threads
    assert main["pid"] == owner.pid and main["role"] == "main" and main["cpu_s"] > 0.3 and main["threads"]
    not_seen = record["verdict"]["evidence"]["not_seen"]
    assert len(not_seen) == 1 and not_seen[0].startswith(f"process {child}: /proc/{child}"), not_seen
    assert f"could not be seen: process {child}: /proc/{child}" in err and "hidepid" in err


def test_without_root_another_users_process_is_observed_or_named():
    """Not root: attach to a process of another user where there is one (PID 1, say)."""
    if os.geteuid() == 0:
        pytest.skip("as root every process is readable: the tests above observe as nobody")
    other = next((p.pid for p in psutil.process_iter(["uids"]) if p.info["uids"] and
                  p.info["uids"].real != os.getuid()), None)
    if other is None:
        pytest.skip("no other user's process to observe")
    session = Session.attach(other, interval_s=0.1)
    while session.observer.samples < 3:
        assert not session.wait(0.1)
    session.stop()
    assert session.wait(WAIT_S)
    record = session.record()
    assert record["processes"][0]["pid"] == other and record["processes"][0]["role"] == "main"
    assert all("/proc/" in note for note in record["verdict"]["evidence"].get("not_seen", []))
    assert observer_threads() == []
