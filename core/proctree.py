"""The processes of a run: which they are, what each one is, how much memory they hold, how they end.

::

    /proc/loadavg's last pid ─ born since last look? ─► their parent pid (one read each)
                                                 │ under the root? (parents first)
    Descendants.update() ◄───────────────────────┘  pid -> parent, and when first seen
         │
    classify(root, parents, first seen, helpers, run) ─► {pid: role}, the root first
         │
         └─ roles in RUN_ROLES ─► the run's tree ─► RSS each sample ─► PeakMemory: the run's peak
                                                    (USS at a new peak, when uss_due)

    kill_tree(pid) ─► SIGKILL its group, it, and every process under it ─► wait until dead or zombies
    describe_exit(code) ─► "exit code -11, SIGSEGV"

What counts as Poolside (the CPU views' "Poolside" share): the process that
runs the jobs (the run host; the caller's own process for runs in it, as the
CLI's) and every process under it.  Each has one role:

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

**A run's tree** is the processes whose role is in :data:`RUN_ROLES`: the
process that runs the job, the run's workers and what their tasks started;
not the helpers nor the parked workers, which belong to no run and idle.

**A run's peak memory** is the largest RSS summed over the run's tree at one
sample (:class:`PeakMemory`), with the tree's USS at that sample when it was
read (:func:`uss_due`).  RSS is the figure every run has; it counts the pages
that forked workers share with their parent once per process, which the USS
(the pages a process alone holds) leaves out.  The engine's sampler
(``poolside.engine.sampler``) measures it in the process that runs the job and
hands it to the run's ``Insights`` (``peak_rss_bytes``, ``peak_uss_bytes``);
the CLI prints that, the history stores it, the window's Summary says it, and
``usage.Monitor`` takes it for the run's peak when the run ends (its own
samples, 4 a second from outside the host, are the live view until then).

Why not ``psutil.Process.children(recursive=True)`` to list the tree: it reads
every process's parent (``/proc/*/stat`` on Linux): ~1.8 ms with 80 processes
on the machine, several with 400, too dear four times a second.  A process's
parent is fixed at its birth, so only the processes new since the last look
need reading, and Linux says which pids are new: it hands them out in
increasing order, and ``/proc/loadavg`` ends with the last one given (one
``pread``, ~1 µs).  Between two looks the new processes are the pids after the
last look's mark up to this one's: when no process (nor thread: they share the
numbers) was born anywhere, nothing is read; a few births are each probed with
one ``stat`` read (``pidfd_open`` first leaves out threads, which share the numbers,
and the dead; in the read a thread tells itself apart by its exit signal, -1); a storm
of them (or a wrap of the numbers) is narrowed by ``psutil.pids()`` (~80 µs).
An ended process is one that ``kill(pid, 0)`` no longer finds (~1 µs each).
Where there is no such mark (not Linux), each look lists every pid with
``psutil.pids()`` and reads the parents of the unlisted ones.  The first look
reads the kernel's own lists of children (``/proc/PID/task/TID/children``, tens
of µs for a small tree) where it has them.  (A process orphaned by its parent's
death keeps its place: it is still what the task started, and still in the
host's process group.)

psutil is imported inside the functions that need it, never at the top: the
run host's client imports this module for its records and ``describe_exit``,
and the processes backend for ``kill_tree``; neither should pay ~10 ms of
psutil's import before it looks at a process.  No worker process imports this
module.
"""

from __future__ import annotations

import errno
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

HOST, HELPER, WORKER, PARKED, CHILD = "host", "helper", "worker", "parked", "child"

#: The roles of a run's tree: whose memory is the run's.
RUN_ROLES = frozenset({HOST, WORKER, CHILD})

# multiprocessing's helpers, known by their command line.  Only the root's own children are
# asked: a forkserver's children (workers) share its command line.
HELPER_COMMANDS = ("forkserver", "resource_tracker", "semaphore_tracker")

# -- the memory policy: one for the engine's sampler and for usage.Monitor ----------------

#: USS is read at a new peak of the run's RSS, and at most this often.  It parses
#: /proc/PID/smaps_rollup, which walks the page tables: 0.27 ms for an idle worker,
#: 0.52 ms for a process with numpy loaded (measured on this 2-core VM).  Twice a
#: second, a host and 8 workers (~2.7 ms a read) cost ~0.5 % of a core while their
#: memory grows, and nothing once it is flat; the USS beside a peak that keeps
#: growing is at most this old.
USS_EVERY_S = 0.5
#: USS is read only once the run is this old.  1-2 ms for a parent and two workers
#: was 4-5 % of a 40 ms sha256 run of 1,000 files and the margin by which its cold
#: start lost to Pool.map's; past this age it is well under 1 %.  A shorter run
#: reports its RSS only.
USS_MIN_RUN_S = 0.25


def uss_due(now: float, last_read: float | None, began: float) -> bool:
    """Whether to read the run tree's USS at a new RSS peak (times on one clock)."""
    return now - began >= USS_MIN_RUN_S and (last_read is None or now - last_read >= USS_EVERY_S)


class PeakMemory:
    """A run's peak memory (see the module's docstring), fed one sample at a time.

    ``peak_rss``: the largest summed RSS of the run's tree at one sample, in
    bytes; ``peak_uss``: its USS at that sample if it was read (``None``:
    not read, or not ours to read).
    """

    def __init__(self, began: float) -> None:
        self.began = began
        self.peak_rss = 0
        self.peak_uss: int | None = None
        self.uss_read_at: float | None = None
        #: The largest USS each process had at a read (the tree's peaks and its end): what
        #: a study reports per worker and for the parent, at no extra read.
        self.uss_by_pid: dict[int, int] = {}

    def add(self, now: float, rss: int, read_uss: Callable[[], dict[int, int] | None]) -> dict[int, int] | None:
        """One sample's summed RSS; on a new peak, reads the USS (``read_uss``) if due and returns it."""
        if rss <= self.peak_rss:
            return None
        self.peak_rss = rss
        if not uss_due(now, self.uss_read_at, self.began):
            return None
        self.uss_read_at = now
        uss = read_uss()
        self.peak_uss = None if uss is None else sum(uss.values())
        self.note_uss(uss)
        return uss

    def note_uss(self, uss: dict[int, int] | None) -> None:
        """Keep each process's largest USS from a read of the tree (``read_uss``)."""
        for pid, n in (uss or {}).items():
            if n > self.uss_by_pid.get(pid, -1):
                self.uss_by_pid[pid] = n

    def split(self, root: int) -> tuple[int | None, int | None]:
        """(the root's largest USS, the largest USS of any one process under it); ``None``: not read."""
        others = [n for pid, n in self.uss_by_pid.items() if pid != root]
        return self.uss_by_pid.get(root), max(others) if others else None


def read_uss(procs: Iterable[Any]) -> dict[int, int] | None:
    """{pid: USS} of ``psutil.Process`` objects; ``None`` if one is not ours to read.

    ``None`` rather than a smaller sum: a figure that leaves out a process
    would read as the tree's.  A process that ended is left out (it holds nothing).
    """
    import psutil

    out = {}
    for p in procs:
        try:
            out[p.pid] = p.memory_full_info().uss
        except (psutil.AccessDenied, AttributeError):  # another user's; no USS on this platform
            return None
        except psutil.Error:
            pass
    return out


def busy_times(t: Any) -> tuple[float, float]:
    """CPU seconds busy in user and system mode from ``psutil.cpu_times`` (one core's or the machine's).

    User counts ``nice`` (and guest time, which Linux includes in user);
    system counts interrupts and ``steal``, the time a hypervisor gave the
    core to another guest: that core was busy, not free for us.
    """
    return (t.user + getattr(t, "nice", 0.0),
            t.system + getattr(t, "irq", 0.0) + getattr(t, "softirq", 0.0) + getattr(t, "steal", 0.0))


def machine_busy_s() -> float:
    """CPU seconds the whole machine has been busy (:func:`busy_times`, summed)."""
    import psutil

    return sum(busy_times(psutil.cpu_times()))


# -- listing ----------------------------------------------------------------------------

class Descendants:
    """The processes under ``root``: their parents, and when each was first seen (``time.perf_counter``).

    Thread-safe: the engine's sampler and a ``usage.Monitor`` in one process
    share one (:func:`own_tree`), so that the first look is paid once.
    """

    def __init__(self, root: int) -> None:
        self.root = root
        self.parents: dict[int, int] = {}
        self.first_seen: dict[int, float] = {}
        self._looked = False
        self._mark: int | None = None  # the last pid given out at the last look (see last_pid)
        self._listed: set[int] | None = None  # every pid at the last look, where there is no mark
        self._commands: dict[int, str] = {}
        self._lock = threading.Lock()

    def command(self, pid: int) -> str:
        """A process's command line, read once (it is asked at every sample)."""
        if pid not in self._commands:
            self._commands[pid] = command_line(pid)
        return self._commands[pid]

    def update(self, *, ends: bool = True) -> dict[int, int]:
        """Look again; pid -> parent pid for every live process under the root, the oldest first (a copy).

        ``ends=False``: leave out the look for ended processes (``kill(pid, 0)``
        each, ~1.5 µs with a 4 Hz thread's cold caches), for a caller that reads
        every process at each sample anyway and says which ended (:meth:`forget`).
        """
        with self._lock:
            return dict(self._update(ends))

    def forget(self, pid: int) -> None:
        """A process that ended (see :meth:`update`)."""
        with self._lock:
            self._forget(pid)

    def _forget(self, pid: int) -> None:
        self.parents.pop(pid, None)
        self.first_seen.pop(pid, None)
        self._commands.pop(pid, None)

    def roles(self, helpers: Iterable[int] | Callable[[dict[int, int]], Iterable[int]],
              run: RunProcesses) -> dict[int, str]:
        """Look again and :func:`classify`: {pid: role}, the root first.

        ``helpers`` may be a function of the parents (pid -> parent) just looked at.
        """
        with self._lock:
            parents = self._update()
            named = helpers(parents) if callable(helpers) else helpers
            return classify(self.root, parents, self.first_seen, named, run, self.command)

    def _update(self, ends: bool = True) -> dict[int, int]:
        now = time.perf_counter()
        mark = last_pid()  # before the look: one born during it is looked at again next time
        gone: list[int] = []
        if not self._looked:  # the first look: one full scan
            if mark is None:
                self._listed = _pids()
            new = _scan(self.root)
        elif mark is not None and self._mark is not None:
            new, gone = _born_between(self._mark, mark, self.parents)
            if ends:
                gone += [pid for pid in self.parents if not _exists(pid)]
        else:
            listed = _pids()
            new = {pid: ppid for pid in listed - (self._listed or set()) - self.parents.keys()
                   if (ppid := _parent(pid)) is not None}
            gone = [pid for pid in self.parents if pid not in listed]
            self._listed = listed
        self._looked, self._mark = True, mark
        for pid in gone:  # ended (or its number given to a new process, which ``new`` holds)
            self._forget(pid)
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


#: Births between two looks probed one by one up to this many (``pidfd_open``, ~2 µs, then one
#: ``stat`` read for the live processes among them: most numbers given out on a busy machine are
#: threads' and short-lived processes'); past it, narrowed by a listing of every pid (~80 µs warm,
#: 300 µs and more four times a second with cold caches).
PROBE_MAX = 256

_loadavg: int | None = None
_loadavg_lock = threading.Lock()


def last_pid() -> int | None:
    """The pid Linux gave out last in this pid namespace (``/proc/loadavg``'s last field); ``None``
    where there is none.  Read with ``pread`` on a file kept open for the process's life (one)."""
    global _loadavg
    try:
        if _loadavg is None:
            with _loadavg_lock:
                if _loadavg is None:
                    _loadavg = os.open("/proc/loadavg", os.O_RDONLY)
        return int(os.pread(_loadavg, 128, 0).rsplit(None, 1)[-1])
    except (OSError, ValueError, IndexError):
        return None


def _born_between(before: int, after: int, known: dict[int, int]) -> tuple[dict[int, int], list[int]]:
    """(pid -> parent of the processes born after ``before`` up to ``after``, the known pids among them
    that now name another process: their own ended and the number was given again)."""
    if after == before:
        return {}, []
    top = _pid_max()
    span = after - before if after > before else (top - 1 - before) + after if top else PROBE_MAX + 1
    born: Iterable[int]
    if span > PROBE_MAX:  # a storm of births: only the live ones, from a listing
        born = [p for p in _pids() if (before < p <= after if before < after else (p > before or p <= after))]
    elif after > before:
        born = range(before + 1, after + 1)
    else:  # the numbers wrapped around past pid_max
        born = [*range(before + 1, top), *range(1, after + 1)]
    new: dict[int, int] = {}
    reused: list[int] = []
    for pid in born:
        ppid = _process_parent(pid) if pid in known or _is_process(pid) else None
        if pid in known:
            if ppid == known[pid]:
                continue  # one the last look found already (born while it looked)
            reused.append(pid)
        if ppid is not None:
            new[pid] = ppid
    return new, reused


def _process_parent(pid: int) -> int | None:
    """A process's parent from its ``stat``; ``None`` if it is gone, unreadable, or a thread (a
    thread's id has a ``/proc`` entry too: it tells itself apart by its exit signal, -1)."""
    try:
        fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
    except OSError:
        return None
    try:
        raw = os.read(fd, 1024)
    except OSError:
        return None
    finally:
        os.close(fd)
    f = raw[raw.rfind(b")") + 2 :].split()
    # Fields from the 3rd (state) on: ppid is the 4th, exit_signal the 38th (proc(5)).
    if len(f) > 35 and f[35] == b"-1":
        return None
    return int(f[1]) if len(f) > 1 else None


_max_pid: list[int] = []


def _pid_max() -> int:
    """The kernel's ``pid_max`` (numbers wrap around past it); 0 if it cannot be read."""
    if not _max_pid:
        try:
            with open("/proc/sys/kernel/pid_max", encoding="ascii") as f:
                _max_pid.append(int(f.read()))
        except (OSError, ValueError):
            _max_pid.append(0)
    return _max_pid[0]


def _is_process(pid: int) -> bool:
    """Whether this number is a live process's, not a thread's nor free: ``pidfd_open`` (~2 µs, no
    permission needed) refuses a thread that leads no process (EINVAL) and a free number (ESRCH).
    Most numbers given out on a busy machine are threads' and short-lived processes': they are
    left out here without a ``stat`` read (~15 µs with cold caches)."""
    try:
        os.close(os.pidfd_open(pid))
    except (AttributeError, OSError) as e:  # no pidfd_open here (not Linux 5.3+): kill(pid, 0) says less
        if isinstance(e, OSError) and e.errno in (errno.ESRCH, errno.EINVAL):
            return False
        return _exists(pid)
    return True


def _exists(pid: int) -> bool:
    """Whether a process (a zombie too) has this pid, as a listing of /proc would say."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's: it exists
        return True
    return True


def _pids() -> set[int]:
    import psutil

    return set(psutil.pids())


_own: Descendants | None = None
_own_lock = threading.Lock()


def own_tree() -> Descendants:
    """This process's :class:`Descendants`, one per process (a forked child gets its own)."""
    global _own
    with _own_lock:
        if _own is None or _own.root != os.getpid():
            _own = Descendants(os.getpid())
        return _own


def descendants(pid: int) -> list[Any]:
    """``psutil.Process`` objects of every process under ``pid`` now (none if it is gone)."""
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _scan(root: int) -> dict[int, int]:
    """pid -> parent for every process under ``root``: the kernel's lists of children, else psutil's scan."""
    if not os.path.exists(f"/proc/{root}/task/{root}/children"):  # not Linux, or a kernel without them
        return {p.pid: ppid for p in descendants(root) if (ppid := _parent(p.pid)) is not None}
    out: dict[int, int] = {}
    todo = [root]
    while todo:
        parent = todo.pop()
        try:
            tids = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue  # it ended while being read
        for tid in tids:  # a child is listed under the thread that started it
            try:
                with open(f"/proc/{parent}/task/{tid}/children", encoding="ascii") as f:
                    kids = [int(pid) for pid in f.read().split()]
            except OSError:
                continue  # the thread ended
            for pid in kids:
                out[pid] = parent
                todo.append(pid)
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


# -- roles ----------------------------------------------------------------------------

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


# -- ending -----------------------------------------------------------------------------

#: How long a kill waits for the killed processes to be dead or zombies.  SIGKILL is
#: delivered when the killed process next runs; on a loaded machine a task's child can
#: still be listed as running for some milliseconds after its worker is gone, and a
#: run (or a host) must not end before its processes have.  Past this, something
#: uninterruptible holds them (a process stuck in the kernel): the caller goes on.
KILL_WAIT_S = 2.0


def kill_tree(pid: int, *, wait_s: float = KILL_WAIT_S, sweep_group: bool = False) -> None:
    """SIGKILL ``pid``, its process group and every process under it; wait until the others are gone.

    Poolside's workers and its run host each lead a process group of their
    own: one ``killpg`` reaches the whole group at once, a task's children and
    theirs included, even those already orphaned.  Descendants that left the
    group (a daemon that started its own session) are found in the tree
    first, while they are still below ``pid``, and killed one by one.
    ``pid`` itself is not waited for: it is its parent's to reap (until then
    its number cannot be reused, so the group it names stays ours).

    ``wait_s=0``: return at once.  ``sweep_group``: also wait for the group's
    orphans, which no tree shows any more; it lists every process on the
    machine (a few ms), so it is for a run host's end, paid once.
    """
    import psutil

    below = descendants(pid)
    if sweep_group:
        seen = {p.pid for p in below}
        below += [p for p in _group(pid) if p.pid != pid and p.pid not in seen]
    try:
        os.killpg(pid, signal.SIGKILL)  # the group: orphans the tree no longer shows
    except (ProcessLookupError, PermissionError, AttributeError):
        try:  # it leads no group (yet: a worker that has only just started), or no killpg here
            os.kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))
        except (ProcessLookupError, PermissionError):
            pass
    for p in below:
        try:
            p.kill()  # psutil checks that the pid is still this process's
        except psutil.Error:
            pass  # gone already
    if wait_s > 0:
        wait_dead(below, wait_s)


def _group(pgid: int) -> list[Any]:
    """The processes in process group ``pgid``: orphans too."""
    import psutil

    members = []
    for p in psutil.process_iter():
        try:
            if os.getpgid(p.pid) == pgid:
                members.append(p)
        except (OSError, psutil.Error):
            pass
    return members


def wait_dead(procs: list[Any], timeout: float) -> None:
    """Until every process in ``procs`` is gone or a zombie (what is left is its parent's to reap).

    Not ``psutil.wait_procs``: orphans belong to PID 1 and, in a container
    whose PID 1 does not reap, stay zombies that it would wait on for ever.
    """
    if not procs:
        return
    import psutil

    deadline = time.monotonic() + timeout
    while procs and time.monotonic() < deadline:
        alive = []
        for p in procs:
            try:
                if p.status() != psutil.STATUS_ZOMBIE:
                    alive.append(p)
            except psutil.Error:
                pass  # gone
        procs = alive
        if procs:
            time.sleep(0.002)  # SIGKILL was sent: the kernel takes a moment to end them


def describe_exit(code: int | None) -> str:
    """How a process ended, for a message: ``exit code 3``; ``exit code -11, SIGSEGV`` for a signal."""
    if code is None:
        return "exit code unknown"
    if code < 0:
        try:
            return f"exit code {code}, {signal.Signals(-code).name}"
        except ValueError:
            pass
    return f"exit code {code}"
