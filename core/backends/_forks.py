"""What a worker does about the processes its task forks.

A task may call ``os.fork()`` (or a library that forks for it) and not wait
for the child.  Two things can then go wrong, and a worker's loop checks for
both after every item, at a few ns an item when nothing forked:

* the child returns from the task into its copy of the worker's loop.  It
  would run the rest of the chunk a second time and hold the parent's pipes
  and the caller's stdout open.  ``after_in_child`` marks such a child, and the
  loop ends it at once (:func:`end_forked_child`);
* the child lives on, in the parent's process group, holding the caller's
  stdout open after the run.  ``before``/``after_in_parent`` note the child's
  pid while the forking thread runs a task, and the loop ends it with its item
  (:func:`end_strays`), so that no process outlives the item that made it::

      task: os.fork() ──► before/after_in_parent: this thread's new children → strays
      loop, after the item: strays? ──► kill each still running (and what it started), reap, say so

The children are read from ``/proc/self/task/TID/children`` (Linux), which
lists the children of one thread: the diff across the fork is exactly the new
child, never a process the engine or the caller started.  Where that file does
not exist, strays are not tracked (the returning child still is).

No engine, no psutil at import: a worker process imports this.
"""

from __future__ import annotations

import os
import threading

# Set in a child that a task forked.  A list, so that the loop can test it
# through a local name.
_forked: list[int] = []

#: Pids a task forked in this process that are not ended yet (parent side).
strays: list[int] = []

# Whether this thread is running tasks now; its children before a fork.
_tasking = threading.local()


def _mark_forked() -> None:
    _forked.append(os.getpid())


def _children_of_this_thread() -> set[int] | None:
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/children") as f:
            return {int(pid) for pid in f.read().split()}
    except (OSError, ValueError):
        return None  # no such file here (not Linux, or no CONFIG_PROC_CHILDREN)


def _before_fork() -> None:
    if getattr(_tasking, "on", False):
        _tasking.before = _children_of_this_thread()


def _after_fork_in_parent() -> None:
    before = getattr(_tasking, "before", None)
    if before is None or not getattr(_tasking, "on", False):
        return
    _tasking.before = None
    after = _children_of_this_thread()
    if after is not None:
        strays.extend(after - before)


if hasattr(os, "register_at_fork"):  # not on Windows, where nothing forks
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                        after_in_child=_mark_forked)


def begin_tasks() -> list[int]:
    """Mark this thread as running tasks; return the child marks for its loop.

    A worker process forked on purpose (the zygote, a fork start method, a
    classic pool) starts its loop afresh: it is the owner, not a stray child.
    """
    _tasking.on = True
    _forked.clear()
    return _forked


def end_tasks() -> None:
    """This thread runs no task any more: a fork it makes now is not a task's."""
    _tasking.on = False


def end_forked_child() -> None:
    """In a process the task forked, that came back into the worker's loop: end it now.

    It must not run another item nor report one (its parent does), and must not
    run the interpreter's exit handlers (they are its parent's: the engine's,
    the pools').  One line on stderr says what happened; the item's outcome is
    its parent's.
    """
    try:
        os.write(2, (f"poolside: the task forked a process (pid {os.getpid()}) that returned into "
                     "the worker's loop; it was ended\n").encode())
    except OSError:
        pass  # no stderr left: ending the process is what matters
    os._exit(70)  # EX_SOFTWARE: nobody waits for this status; it only marks the cause


def end_strays() -> None:
    """End the processes a task forked and left running; reap the ones that ended.

    A child the task waited for is gone already (``waitpid`` says it is not
    ours).  One that exited unwaited is reaped here, so no zombie is left.  One
    still running is killed with what it started (``proctree.kill_tree``) and
    reaped, and one line on stderr and in the log names it.
    """
    while strays:
        pid = strays.pop()
        try:
            done, _status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            continue  # the task reaped it
        if done:
            continue  # it had exited: reaped now
        from ..proctree import kill_tree  # psutil: paid only when a task left a process running

        kill_tree(pid)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        message = (f"the task forked a process (pid {pid}) and did not wait for it; "
                   "it was ended with its item")
        # Poolside's logger, silent unless configured: a library pool's worker process has no
        # handler of its own, and logging's last resort would print the line a second time.
        # Imported here: logging is ~2 ms a worker process pays before its first item otherwise.
        from ..log import get_logger

        get_logger(__name__).warning(message)
        try:
            os.write(2, f"poolside: {message}\n".encode())
        except OSError:
            pass  # no stderr left: the log, where there is one, has it
