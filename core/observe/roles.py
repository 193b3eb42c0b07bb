"""What each process of an observed program is, from what the OS shows: parent, command line, threads.

::

    the tree (proctree.Descendants: pid -> parent) ─┐
    each process's command line (read once) ────────┼─► role_of() ─► (role, pool kind)
    the pool owner's thread count ──────────────────┘       │
                                                            └─► pool: "<kind> <owner pid>"

Roles: ``main`` (the observed root); ``worker`` (a worker of a pool, grouped
by pool); ``helper`` (multiprocessing's or loky's resource tracker, a
forkserver: they start or tidy workers and run no work); ``child`` (any other
process: a ``subprocess`` the program started, say).

Pool kinds, and how each shows:

* ``loky``: joblib's workers run ``-m ...loky.backend.popen_loky_posix`` on
  their command line;
* ``dask``: a ``dask worker`` / ``dask-worker`` command line, or the title a Dask worker gives
  itself once started ("dask worker [tcp://...]", where ``setproctitle`` is installed; without
  it a ``LocalCluster``'s spawned worker reads as a multiprocessing worker);
* ``multiprocessing.Pool`` and ``ProcessPoolExecutor``: a child started by
  fork (same command line as its parent, a Python one), or by spawn/forkserver
  (``multiprocessing.spawn`` / ``--multiprocessing-fork`` on its command line,
  under the owner or its forkserver).  From outside the two differ only in the
  owner's threads (Python 3.11 does not name threads for the OS): a Pool
  starts 3 (its workers', tasks' and results' handlers), an executor 1 or 2
  (its manager thread and its queue's feeder).  So the kind is the *most*
  extra threads the owner had while the pool lived: 3 or more is a Pool, 1-2
  an executor, none plain ``multiprocessing`` (``Process`` objects).  The
  program's own threads can make an executor read as a Pool; the role and the
  pool's grouping stand either way.
"""

from __future__ import annotations

from typing import NamedTuple

from ..proctree import HELPER_COMMANDS

MAIN, WORKER, HELPER, CHILD = "main", "worker", "helper", "child"
ROLES = (MAIN, WORKER, HELPER, CHILD)

LOKY, DASK, MP_POOL, EXECUTOR, MULTIPROCESSING = (
    "loky", "dask", "multiprocessing.Pool", "ProcessPoolExecutor", "multiprocessing")

_LOKY_MARKS = ("popen_loky", "LokyProcess")
_DASK_MARKS = ("dask worker", "dask-worker", "dask_worker", "distributed.cli.dask_worker")
_SPAWN_MARKS = ("multiprocessing.spawn", "--multiprocessing-fork")
_FORKSERVER = "forkserver"
#: A Pool starts this many threads of its own in its owner; an executor fewer.
POOL_THREADS = 3


class Role(NamedTuple):
    role: str
    kind: str | None = None  # the pool's kind, for a worker
    owner: int | None = None  # the process whose pool it is

    @property
    def pool(self) -> str | None:
        return None if self.kind is None else f"{self.kind} {self.owner}"


def role_of(pid: int, parents: dict[int, int], root: int, command: dict[int, str]) -> Role:
    """The role of ``pid`` (a multiprocessing kind is refined by :func:`pool_kind` later)."""
    if pid == root:
        return Role(MAIN)
    ppid = parents.get(pid, root)
    cmd = command.get(pid, "")
    parent_cmd = command.get(ppid, "")
    if _FORKSERVER in parent_cmd and ppid != root:  # the forkserver forks them for its owner
        return Role(WORKER, MULTIPROCESSING, parents.get(ppid, root))
    if any(mark in cmd for mark in HELPER_COMMANDS):
        return Role(HELPER)
    if any(mark in cmd for mark in _LOKY_MARKS):
        return Role(WORKER, LOKY, ppid)
    if any(mark in cmd for mark in _DASK_MARKS):
        return Role(WORKER, DASK, ppid)
    if any(mark in cmd for mark in _SPAWN_MARKS) or (cmd == parent_cmd and _python(cmd)):
        return Role(WORKER, MULTIPROCESSING, ppid)
    return Role(CHILD)


def pool_kind(extra_threads: int) -> str:
    """A fork/spawn pool's kind from the most threads its owner had besides its main one (see above)."""
    if extra_threads >= POOL_THREADS:
        return MP_POOL
    return EXECUTOR if extra_threads >= 1 else MULTIPROCESSING


def _python(cmd: str) -> bool:
    """Whether a command line runs Python (a fork of a shell or a C program is no pool's worker)."""
    program = cmd.split(" ", 1)[0].rsplit("/", 1)[-1]
    return program.startswith("python") or program.startswith("pypy")
