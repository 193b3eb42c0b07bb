"""What the cores and Poolside's own processes are doing, sampled a few times a second, kept as history.

For the window's CPU views and for traces: a rolling minute and each run's whole series.
A run's peak memory is measured where the job runs (``poolside.engine.sampler.TreeSampler``,
into the run's ``Insights``); this monitor samples the same tree with the same USS policy
(:mod:`poolside.proctree`) for the live view, and takes the engine's figure as the run's peak
when it is given one at ``end_run`` (the window and the CLI give it), so that every view says
one number.

::

    sampler thread (every interval_s)                      readers (any thread)
    ───────────────────────────────────                    ────────────────────
    /proc/stat (cpu_times)    ─ deltas ─► per-core user/system %  ┐
    pids()  ─► psutil.Process per pid ──► CPU % and RSS           ├─► _Rings ──► recent(seconds)
                (host + helpers + workers + their children,       │   (numpy,    series()  (the run)
                 each with its role: poolside.proctree)           │    locked)   snapshot() (now)
                the run's tree (proctree.RUN_ROLES): summed RSS ──┤
                               on a new peak, when due: its USS ──┘

What is sampled as Poolside, and which of those processes are a run's
workers, is :mod:`poolside.proctree`'s business: the pid source (the run
host's :class:`poolside.host.tree.HostTree` in the window, :class:`OwnTree`
for runs in this process) looks at the tree at every sample, so a worker
counts from the first sample after its fork, and one born since the last
sample is counted with all the CPU it has used (it used it since then), not
as 0 as a first reading of ``cpu_percent`` would be.

Numbers only: percentages of one core or of the machine, bytes, and times in
``time.perf_counter`` seconds (the engine's clock, so a run's outcomes and its
samples share one time axis).  Formatting is the front ends' business.

Why these choices, measured on a 2-core Linux box (psutil 7.2):

* per-core user and system times (``cpu_percent`` does not give them apart)
  are read from ``/proc/stat`` with one ``pread`` on a file kept open and
  parsed into one array (~12 µs, against ~23 µs for ``psutil.cpu_times(percpu=True)``
  and as much again to turn its tuples into an array; psutil where there is no
  ``/proc/stat``), so per-core percentages are computed here from the deltas
  between two samples.
* one process's ``cpu_times`` + ``memory_info`` in ``oneshot()`` costs ~25 µs;
  USS (``memory_full_info``, which parses ``smaps_rollup``) ~0.3 ms a process,
  so it is read for the whole run tree at once (a sum of one moment, beside
  that sample's RSS), only at a new peak of the run's RSS and at most every
  ``proctree.USS_EVERY_S``: a flat run reads it once.  The memory columns
  are the run's tree's (``proctree.RUN_ROLES``); the CPU share is every
  process's the pid source gives (a parked worker's or a helper's is ~0).
* finding children with ``Process.children(recursive=True)`` scans every pid,
  ~1.5 ms: the pid sources keep the tree up to date from the pids that are new
  since the last sample instead (see :mod:`poolside.proctree`).  Which processes
  were born since the last sample (all their CPU was used since) is told by a
  listing of every pid (``psutil.pids()``, ~80 µs), or by ``born`` where the
  caller knows it already (``poolside.observe`` reads each one's start time).

At 4 Hz with a host and 8 workers this stays under 1 % of one core, and the
sampler stretches its interval rather than pass ``CPU_BUDGET``
(``benchmarks/monitor_cost.py`` measures it).
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import psutil

from .proctree import (
    HELPER,
    HELPER_COMMANDS,
    HOST,
    RUN_ROLES,
    WORKER,
    PeakMemory,
    RunProcesses,
    busy_times,
    own_tree,
    read_uss,
)

#: 4 Hz: smooth enough for a 60 s graph, cheap enough to leave on.
DEFAULT_INTERVAL_S = 0.25
#: The most of one core sampling may take: past it, the sampler waits longer between samples
#: (on a big tree: ~25 µs a process, so 33 processes at 4 Hz would come to ~1 %).
CPU_BUDGET = 0.008
#: Weight of the latest sample's cost in the running mean the budget is held to (about the last 10).
COST_SMOOTHING = 0.1
#: Samples kept for the rolling view: 15 minutes at 4 Hz.
RECENT_CAPACITY = 3600
#: Samples kept for one run; past this the run's series is halved in resolution.
RUN_CAPACITY = 4096

#: What to sample: pids (the first is the host), or {pid: role} (see :mod:`poolside.proctree`).
PidSource = Callable[[], Iterable[int] | Mapping[int, str]]
#: A pid's CPU seconds (user + system) and RSS in bytes, None once it has ended: for a caller that
#: has just read them itself (``poolside.observe`` reads /proc once a sample for its own figures).
ProcessReader = Callable[[int], tuple[float, float] | None]
#: Whether a pid was born since the last sample, for a caller that knows (see the module's docstring).
BirthTeller = Callable[[int], bool]

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_proc_stat: int | None = None
_proc_stat_lock = threading.Lock()


def core_times() -> list[tuple[float, float, float]]:
    """Per core: CPU seconds busy in user mode, in system mode (:func:`poolside.proctree.busy_times`), and
    in all, since boot; one a core, as ``psutil.cpu_times(percpu=True)`` gives them.

    From ``/proc/stat``, read with ``pread`` on a file kept open for the process's life (one).
    Its columns: user nice system idle iowait irq softirq steal guest guest_nice, in clock ticks.
    """
    global _proc_stat
    try:
        if _proc_stat is None:
            with _proc_stat_lock:
                if _proc_stat is None:
                    _proc_stat = os.open("/proc/stat", os.O_RDONLY)
        raw = os.pread(_proc_stat, 256 * ((os.cpu_count() or 1) + 2), 0)
    except OSError:  # no /proc/stat (not Linux)
        return [(*busy_times(t), sum(t)) for t in psutil.cpu_times(percpu=True)]
    out = []
    for line in raw.split(b"\n")[1:]:  # the first line is the machine's sum
        if not line.startswith(b"cpu"):
            break
        v = [int(x) for x in line.split()[1:11]] + [0] * 10
        out.append(((v[0] + v[1]) / _TICKS, (v[2] + v[5] + v[6] + v[7]) / _TICKS, sum(v) / _TICKS))
    return out


class OwnTree:
    """The default pid source: this process (the host: it runs the jobs) and every process under it, with roles.

    For runs in this process (the CLI's): Poolside's zygote is a helper, every
    other process this one or a helper started is a worker (a process that
    runs jobs itself has parked workers only between its runs), and what they
    start is theirs.  Looked at on every call (see :mod:`poolside.proctree`).
    """

    def __init__(self) -> None:
        self._tree = own_tree()  # shared with the engine's sampler in this process

    def __call__(self) -> dict[int, str]:
        # The zygote, if this process has one: only a process that imported the backend can (and the
        # sampling thread does not pay for that import).
        backend = sys.modules.get(__name__.rpartition(".")[0] + ".backends._launch")
        helpers = backend.helper_pids() if backend is not None else []
        if self._tree.root != os.getpid():  # forked
            self._tree = own_tree()
        return self._tree.roles(helpers, RunProcesses(begun=-math.inf))


class _Ring:
    """Fixed-size rows of floats; the oldest are overwritten (or halved, for a run)."""

    def __init__(self, columns: int, capacity: int, *, decimate: bool = False) -> None:
        self.data = np.full((capacity, columns), np.nan)
        self.capacity = capacity
        self.decimate = decimate
        self.stride = 1  # a run keeps every stride-th sample once it has been halved
        self._skip = 0
        self.pos = 0
        self.count = 0

    def append(self, row: np.ndarray | tuple[float, ...]) -> None:
        if self.decimate:
            self._skip = (self._skip + 1) % self.stride
            if self._skip:
                return
            if self.count == self.capacity:  # keep every other sample, in place
                half = self.capacity // 2
                self.data[:half] = self.data[0::2][:half]
                self.data[half:] = np.nan
                self.count = self.pos = half
                self.stride *= 2
        self.data[self.pos] = row
        self.pos = (self.pos + 1) % self.capacity
        self.count = min(self.capacity, self.count + 1)

    def rows(self) -> np.ndarray:
        """A copy, oldest first."""
        if self.count < self.capacity:
            return self.data[: self.count].copy()
        return np.concatenate((self.data[self.pos :], self.data[: self.pos]))


@dataclass
class ProcessSeries:
    """One sampled process over time: its role, and columns t, cpu %, rss, uss (NaN until read)."""

    pid: int
    role: str  # "host", "helper", "worker", "parked" or "child": see poolside.proctree (the latest said)
    name: str
    rows: _Ring = field(repr=False, default_factory=lambda: _Ring(4, RUN_CAPACITY, decimate=True))


class Monitor:
    """Samples the cores and a process tree on its own thread.

    ``pids`` gives the pids to sample (the first is the host); the default is
    :class:`OwnTree`.  ``reader``: where each process's CPU and RSS come from
    (default: psutil, ~25 µs a process); ``born``: whether a process was born
    since the last sample (default: not in the last listing of every pid).
    ``start()``/``stop()`` the thread; ``begin_run()`` and ``end_run()``
    bracket a run, whose series ``series()`` returns afterwards.
    """

    def __init__(
        self,
        pids: PidSource | None = None,
        *,
        interval_s: float = DEFAULT_INTERVAL_S,
        read_uss: bool = True,
        reader: ProcessReader | None = None,
        born: BirthTeller | None = None,
    ) -> None:
        self.interval_s = float(interval_s)
        self.cores = len(core_times()) or 1
        self._pids: PidSource = pids or OwnTree()
        self._reader = reader
        self._born = born
        self._read_uss = read_uss
        # Columns: t, machine user %, machine system %, tree CPU % of the machine,
        # the run tree's RSS, its USS (NaN unless read), then per core user % and per core system %.
        self._cols = 6 + 2 * self.cores
        self._recent = _Ring(self._cols, RECENT_CAPACITY)
        self._run: _Ring | None = None
        self._run_started: float | None = None
        self._run_ended: float | None = None
        self._procs: dict[int, psutil.Process] = {}
        self._cpu_seen: dict[int, tuple[float, float]] = {}  # pid -> (CPU seconds, monotonic time) last read
        self._listed: set[int] | None = None  # every pid on the machine at the last sample
        self._last_mono = 0.0
        self._roles: dict[int, str] = {}
        self._series: dict[int, ProcessSeries] = {}
        self._prev_times: list[tuple[float, float, float]] | None = None
        self._n = 0
        self._memory = PeakMemory(0.0)  # the run's peak (see proctree.PeakMemory); begin_run starts one
        self.cost_s = 0.0  # CPU seconds this monitor's own thread has spent sampling
        self._cost_avg = 0.0  # a running mean of one sample's cost
        self.samples = 0
        self._lock = threading.Lock()  # guards the buffers, for readers
        self._sampling = threading.Lock()  # one sample at a time: the thread's, or end_run's
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- control ------------------------------------------------------------
    def set_pid_source(self, pids: PidSource) -> None:
        """Sample other processes from now on (the run host's, once it exists)."""
        self._pids = pids

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="poolside-usage", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def begin_run(self, origin: float | None = None) -> None:
        """Start keeping a run's series; ``origin`` is its start on the perf_counter clock."""
        with self._sampling, self._lock:
            self._run = _Ring(self._cols, RUN_CAPACITY, decimate=True)
            self._run_started = time.perf_counter() if origin is None else origin
            self._run_ended = None
            self._series = {}
            self._memory = PeakMemory(self._run_started)

    def end_run(self, summary: Any = None) -> None:
        """Take a last sample (a run shorter than the interval still gets one) and stop adding
        to the run's series; the rolling view goes on.

        ``summary``: the run's ``Summary``.  Its insights' peak memory, as the engine measured
        it where the job ran (``peak_rss_bytes``, ``peak_uss_bytes``), is what the CLI, the
        history and the window's Summary report: it becomes this run's peak, in place of the
        one from these samples.  Given after the run ended too, it still does.
        """
        insights = getattr(summary, "insights", None)
        peak_rss = None if insights is None else insights.peak_rss_bytes
        peak_uss = None if insights is None else insights.peak_uss_bytes
        with self._sampling:  # no sample of the thread's adds to the peak once it is the engine's
            if self._run is not None and self._run_ended is None:
                self._sample(time.perf_counter())
            with self._lock:
                if self._run is None:
                    return
                if self._run_ended is None:
                    self._run_ended = time.perf_counter()
                if peak_rss is not None:  # (also once the run has ended: the summary may come later)
                    self._memory.peak_rss, self._memory.peak_uss = peak_rss, peak_uss

    # -- sampling -----------------------------------------------------------
    def _loop(self) -> None:
        thread_cpu = time.thread_time
        while not self._stop.is_set():
            c0 = thread_cpu()
            try:
                self.sample()
            except Exception:  # a sampler must never take the window down; try again next tick
                pass
            spent = thread_cpu() - c0
            self.cost_s += spent
            # The budget holds on average: one dear sample (the first, ~25 ms; a run's new workers,
            # their USS read at once) must not leave a gap of seconds just when a run starts.
            self._cost_avg += COST_SMOOTHING * (spent - self._cost_avg)
            self._stop.wait(max(self.interval_s, self._cost_avg / CPU_BUDGET))

    def sample(self, now: float | None = None) -> None:
        """Take one sample (the thread calls this; so do ``end_run`` and tests)."""
        with self._sampling:
            self._sample(time.perf_counter() if now is None else now)

    def _sample(self, now: float) -> None:
        row = np.full(self._cols, np.nan)
        row[0] = now
        self._sample_cores(row)
        procs = self._sample_tree(now)
        known = [cpu for _, cpu, _ in procs if cpu == cpu]  # not NaN (a first reading)
        row[3] = sum(known) / self.cores if known or not procs else math.nan
        run_tree = [(pid, rss) for pid, _, rss in procs if self._roles.get(pid, HOST) in RUN_ROLES]
        row[4] = sum(rss for _, rss in run_tree)
        uss: dict[int, int] | None = None
        recording = self._run is not None and self._run_ended is None  # (begin_run and end_run wait for us)
        if recording:
            uss = self._memory.add(now, int(row[4]), lambda: read_uss(
                [p for pid, _ in run_tree if (p := self._procs.get(pid)) is not None]) if self._read_uss else None)
        if uss is not None:
            row[5] = sum(uss.values())
        self._n += 1
        with self._lock:
            self._recent.append(row)
            if recording:
                assert self._run is not None
                self._run.append(row)
                self._record_processes(now, procs, uss or {})
            self.samples += 1

    def _sample_cores(self, row: np.ndarray) -> None:
        # Plain Python, not numpy: for a few cores, numpy's per-call overhead (a dozen calls on arrays
        # of 2) cost ~300 µs a sample with the cold caches of a 4 Hz thread; this loop costs ~20.
        times, prev, n = core_times(), self._prev_times, self.cores
        if prev is not None and len(times) == len(prev) == n:
            users, systems = [], []
            for i, ((u, s, t), (u0, s0, t0)) in enumerate(zip(times, prev)):
                if t > t0:  # else no time passed (two samples in one clock tick): NaN
                    row[6 + i] = user = min(100.0, max(0.0, 100.0 * (u - u0) / (t - t0)))
                    row[6 + n + i] = system = min(100.0, max(0.0, 100.0 * (s - s0) / (t - t0)))
                    users.append(user)
                    systems.append(system)
            if users:
                row[1] = sum(users) / len(users)
                row[2] = sum(systems) / len(systems)
        self._prev_times = times

    def _sample_tree(self, now: float) -> list[tuple[int, float, float]]:
        """(pid, CPU % of one core, RSS) for each live process of the tree."""
        # Every pid on the machine (~80 µs), listed before the tree is: a process the tree names
        # that was not listed at the last sample was born since, and all its CPU was used since.
        mono = time.monotonic()
        listed, before = (set(psutil.pids()), self._listed) if self._born is None else (None, None)
        given = self._pids()
        self._roles = dict(given) if isinstance(given, Mapping) else {}
        wanted = list(dict.fromkeys(given))
        out = []
        for pid in wanted:
            proc = self._procs.get(pid)
            try:
                if proc is None:
                    proc = self._procs[pid] = psutil.Process(pid)
                if self._reader is not None:
                    read = self._reader(pid)
                    if read is None:
                        raise psutil.NoSuchProcess(pid)
                    cpu_s, rss = read
                else:
                    with proc.oneshot():
                        times = proc.cpu_times()
                        rss = float(proc.memory_info().rss)
                    cpu_s = times.user + times.system
                born = self._born(pid) if self._born is not None else (before is not None and pid not in before)
                cpu = self._cpu_percent(pid, cpu_s, mono, born)
                out.append((pid, cpu, rss))
            except psutil.Error:  # ended between the listing and the reading
                self._forget(pid)
        for pid in set(self._procs) - set(wanted):
            self._forget(pid)
        self._listed = listed
        self._last_mono = mono
        return out

    def _cpu_percent(self, pid: int, cpu_s: float, mono: float, born: bool) -> float:
        """% of one core since the last reading; for a process born since the last sample, since its birth
        (NaN for the first reading of one that was already running: unknown)."""
        last = self._cpu_seen.get(pid)
        self._cpu_seen[pid] = (cpu_s, mono)
        if last is None:
            last = (0.0, self._last_mono) if born and self._last_mono else None
        if last is None or mono <= last[1]:
            return np.nan
        return max(0.0, 100.0 * (cpu_s - last[0]) / (mono - last[1]))

    def _forget(self, pid: int) -> None:
        self._procs.pop(pid, None)
        self._cpu_seen.pop(pid, None)

    def _record_processes(self, now: float, procs: list[tuple[int, float, float]], uss: dict[int, int]) -> None:
        for i, (pid, cpu, rss) in enumerate(procs):
            role = self._roles.get(pid)
            s = self._series.get(pid)
            if s is None:
                proc = self._procs.get(pid)
                role = role or (HOST if i == 0 else _guess_role(proc, procs[0][0]))
                s = self._series[pid] = ProcessSeries(pid, role, _name(proc, pid))
            elif role is not None:
                s.role = role  # a parked worker adopted by this run, once the host says so
            s.rows.append((now, cpu, rss, uss.get(pid, np.nan)))

    # -- reading (any thread) -------------------------------------------------
    def recent(self, seconds: float = 60.0) -> dict[str, np.ndarray]:
        """The last ``seconds`` of the rolling buffer (see :meth:`series` for the keys)."""
        with self._lock:
            rows = self._recent.rows()
        if len(rows):
            rows = rows[rows[:, 0] >= rows[-1, 0] - seconds]
        return self._columns(rows)

    def series(self) -> dict[str, Any]:
        """The current or last run as plain arrays and dicts, ready for a store or a trace.

        Keys: ``t`` (s since the run's origin), ``user``, ``system``, ``tree_cpu``
        (% of the machine), ``tree_rss``, ``tree_uss`` (bytes, NaN when unknown),
        ``core_user``/``core_system`` (samples x cores, %), ``cores``, ``origin``,
        ``ended`` (both perf_counter, ``ended`` None while running), ``peak_rss`` and
        ``peak_memory`` (the run's peak memory, one figure: see :mod:`poolside.proctree`),
        ``peak_uss`` (the USS at that peak; 0 if not read), ``interval_s`` and ``processes``:
        a list of dicts with ``pid``, ``role``, ``name``, ``t``, ``cpu`` (% of one core),
        ``rss``, ``uss`` (NaN unless read).
        """
        with self._lock:
            if self._run is None:
                return {**self._columns(np.empty((0, self._cols))), "origin": None, "ended": None,
                        "processes": [], "peak_rss": 0.0, "peak_uss": 0.0, "peak_memory": 0.0,
                        "interval_s": self.interval_s}
            origin = self._run_started or 0.0
            out: dict[str, Any] = self._columns(self._run.rows(), origin)
            out["processes"] = [
                {"pid": s.pid, "role": s.role, "name": s.name, **_process_columns(s.rows.rows(), origin)}
                for s in self._series.values()
            ]
            peak_rss, peak_uss = self._peaks()
            out.update(origin=origin, ended=self._run_ended, peak_rss=peak_rss, peak_uss=peak_uss,
                       peak_memory=peak_rss, interval_s=self.interval_s * self._run.stride)
        return out

    def snapshot(self) -> dict[str, float]:
        """The latest sample: machine user/system %, tree CPU % of the machine, tree RSS/USS, run peaks."""
        with self._lock:
            rows = self._recent.rows()[-1:]
            peak_rss, peak_uss = self._peaks()
        if not len(rows):
            return {}
        r = rows[0]
        return {"t": r[0], "user": r[1], "system": r[2], "tree_cpu": r[3], "tree_rss": r[4], "tree_uss": r[5],
                "peak_rss": peak_rss, "peak_uss": peak_uss, "peak_memory": peak_rss}

    def _peaks(self) -> tuple[float, float]:
        """The run's peak RSS and the USS at it (0: not read), under the lock."""
        return float(self._memory.peak_rss), float(self._memory.peak_uss or 0.0)

    def _columns(self, rows: np.ndarray, origin: float = 0.0) -> dict[str, Any]:
        n = self.cores
        return {
            "t": rows[:, 0] - origin, "user": rows[:, 1], "system": rows[:, 2], "tree_cpu": rows[:, 3],
            "tree_rss": rows[:, 4], "tree_uss": rows[:, 5],
            "core_user": rows[:, 6 : 6 + n], "core_system": rows[:, 6 + n : 6 + 2 * n], "cores": n,
        }


def _name(proc: psutil.Process | None, pid: int) -> str:
    try:
        return proc.name() if proc is not None else str(pid)
    except psutil.Error:
        return str(pid)


def _guess_role(proc: psutil.Process | None, host: int) -> str:
    """For a pid source that gives no roles: multiprocessing's helpers (children of the host whose
    command line names them) are not workers; a forkserver's children share its command line but are."""
    try:
        helper = proc is not None and proc.ppid() == host and any(h in " ".join(proc.cmdline())
                                                                   for h in HELPER_COMMANDS)
    except psutil.Error:
        helper = False
    return HELPER if helper else WORKER


def _process_columns(rows: np.ndarray, origin: float) -> dict[str, np.ndarray]:
    return {"t": rows[:, 0] - origin, "cpu": rows[:, 1], "rss": rows[:, 2], "uss": rows[:, 3]}


def busy_threads(starts: np.ndarray, durations: np.ndarray, at: np.ndarray, interval_s: float) -> np.ndarray:
    """The mean number of items running over the interval ending at each time in ``at``.

    Intervals run from the previous time in ``at`` (``interval_s`` before the
    first) to this one, as a CPU % sample covers the time since the last, so
    the two can be set side by side: for in-process backends this is the
    number of busy threads against the process's CPU (8 threads busy but 1.0
    core used: the GIL).  ``starts`` and ``at`` on one clock; exact, however
    short the items: it integrates each item's overlap with each interval.
    """
    at = np.asarray(at, dtype=float)
    if not len(at):
        return np.zeros(0)
    starts = np.asarray(starts, dtype=float)
    ends = starts + np.asarray(durations, dtype=float)
    edges = np.concatenate(([at[0] - interval_s], at))
    busy = _busy_time_until(np.sort(starts), edges) - _busy_time_until(np.sort(ends), edges)
    width = np.diff(edges)
    return np.where(width > 0, np.diff(busy) / np.where(width > 0, width, 1.0), 0.0)


def _busy_time_until(sorted_times: np.ndarray, x: np.ndarray) -> np.ndarray:
    """sum(max(0, x - t)) over ``sorted_times``, for each ``x``: a prefix sum and a search."""
    k = np.searchsorted(sorted_times, x, side="right")
    prefix = np.concatenate(([0.0], np.cumsum(sorted_times)))
    return x * k - prefix[k]
