"""Which processes are Poolside's, and what each one is: cheap enough to ask at every CPU sample.

::

    psutil.pids()  ─ new since last look? ─► their parent pid (one read each)
                                                 │ under the root? (parents first)
    Descendants.update() ◄───────────────────────┘  pid -> parent, and when first seen
         │
    classify(root, parents, first seen, helpers, run) ─► {pid: role}, the root first

What counts as Poolside (the CPU views' "Poolside" share and memory): the
process that runs the jobs (the run host; the caller's own process for runs in
it, as the CLI's) and every process under it.  Each has one role:

* ``host``: the root, which runs the engine (and the items, on threads).
* ``helper``: a process that starts workers or tidies after them and runs no
  item: Poolside's zygote (the host names it), multiprocessing's forkserver or
  resource tracker (named on their command line).
* ``worker``: a process this run's items run in.  The backend names them when it
  can (``ProcessBackend.pids()``, sent in the host's ``Started``); a process that
  appears directly under the root or a helper after the run began is one too (a
  replacement for a worker that was killed or died; a pool's worker).
* ``parked``: a worker of an earlier run, kept for the next run to adopt, idle
  (or, between runs, every worker).
* ``child``: what a task started itself (a worker's descendants; on a backend
  that runs items in the host's threads, the host's new children).

The window itself is not counted: its CPU is its drawing, and its memory (Qt,
100 MB and more) would swamp a run's peak memory.

Why not ``psutil.Process.children(recursive=True)``: it reads every process's
parent (``/proc/*/stat`` on Linux): ~1.5 ms with 80 processes on the machine,
several with 400, too dear four times a second, so the pid sources looked every
2 s and a run's workers stayed unseen, and Poolside's share read 0, for up to
2 s.  A process's parent is fixed at its birth, so only the pids new since the
last look need reading: ``psutil.pids()`` (~50 µs) and one parent read each
(~30 µs), and a worker is seen at the first sample after its fork.  (A process
orphaned by its parent's death keeps its place: it is still what the task
started, and still in the host's process group.)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import NamedTuple

# psutil is imported where a tree is looked at: the run host's client imports this
# module for its records, and starts faster without it.

HOST, HELPER, WORKER, PARKED, CHILD = "host", "helper", "worker", "parked", "child"

# multiprocessing's helpers, known by their command line.  Only the root's own children are
# asked: a forkserver's children (workers) share its command line.
HELPER_COMMANDS = ("forkserver", "resource_tracker", "semaphore_tracker")


class Descendants:
    """The processes under ``root``: their parents, and when each was first seen (``time.perf_counter``)."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.parents: dict[int, int] = {}
        self.first_seen: dict[int, float] = {}
        self._listed: set[int] | None = None
        self._commands: dict[int, str] = {}

    def command(self, pid: int) -> str:
        """A process's command line, read once (it is asked at every sample)."""
        if pid not in self._commands:
            self._commands[pid] = command_line(pid)
        return self._commands[pid]

    def update(self) -> dict[int, int]:
        """Look again; pid -> parent pid for every live process under the root, the oldest first."""
        import psutil

        now = time.perf_counter()
        listed = set(psutil.pids())
        if self._listed is None:  # the first look: one full scan
            new = _scan(self.root)
        else:  # (one born during the first scan is in it already: its first sight stands)
            new = {pid: ppid for pid in listed - self._listed - self.parents.keys()
                   if (ppid := _parent(pid)) is not None}
        self._listed = listed
        for pid in [p for p in self.parents if p not in listed]:  # ended
            del self.parents[pid]
            self.first_seen.pop(pid, None)
            self._commands.pop(pid, None)
        grew = True
        while grew:  # a new process may be the child of another new one: parents first
            grew = False
            for pid, ppid in list(new.items()):
                if ppid == self.root or ppid in self.parents:
                    self.parents[pid] = ppid
                    self.first_seen[pid] = now
                    del new[pid]
                    grew = True
        return self.parents


def _scan(root: int) -> dict[int, int]:
    import psutil

    try:
        found = psutil.Process(root).children(recursive=True)
    except psutil.Error:
        return {}
    out = {}
    for p in found:
        ppid = _parent(p.pid)
        if ppid is not None:
            out[p.pid] = ppid
    return out


def _parent(pid: int) -> int | None:
    import psutil

    try:
        return psutil.Process(pid).ppid()
    except psutil.Error:  # gone already, or not ours to read
        return None


def command_line(pid: int) -> str:
    """A process's command line as one string ("" if it cannot be read)."""
    import psutil

    try:
        return " ".join(psutil.Process(pid).cmdline())
    except psutil.Error:
        return ""


class RunProcesses(NamedTuple):
    """What the process that runs the jobs says about the current (or last) run.

    ``begun``: when it was asked for (``time.perf_counter``; ``None``: no run
    yet).  ``workers``: its worker processes as the backend named them (``None``:
    not said, or not yet; ``()``: the items run in the host's own threads).
    """

    begun: float | None = None
    workers: tuple[int, ...] | None = None


def classify(root: int, parents: dict[int, int], first_seen: dict[int, float], helpers: Iterable[int],
             run: RunProcesses, command: Callable[[int], str]) -> dict[int, str]:
    """{pid: role} for the root and every process under it (see the module's docstring), the root first.

    ``command(pid)``: a process's command line (asked only of the root's
    children that are not named helpers, to find multiprocessing's own).
    """
    named = set(helpers)
    roles = {root: HOST}
    for pid, ppid in parents.items():  # parents before their children (first-seen order)
        if ppid == root and (pid in named or any(h in command(pid) for h in HELPER_COMMANDS)):
            roles[pid] = HELPER
        elif ppid == root or roles.get(ppid) == HELPER:
            roles[pid] = _started_by_poolside(pid, first_seen.get(pid), run)
        else:
            roles[pid] = CHILD
    return roles


def _started_by_poolside(pid: int, seen: float | None, run: RunProcesses) -> str:
    """A process the host or a helper started: this run's worker, a parked one, or (threads) a task's."""
    if run.workers is not None and pid in run.workers:
        return WORKER
    new = run.begun is not None and seen is not None and seen >= run.begun
    if run.workers == ():  # the items run in the host's threads: what they start is theirs
        return CHILD if new else PARKED
    return WORKER if new else PARKED
