"""How long a test waits for a signal, a process or a file before it calls the wait a hang.

A safety net against a hang, never a speed limit: the tests run on a shared,
loaded 2-core machine, where a run that takes 0.1 s alone can take seconds.
"""

#: Milliseconds, as ``qtbot.waitSignal`` and ``waitUntil`` take them.
WAIT_MS = 60_000
#: The same, in seconds, for ``Thread.join``, ``Event.wait`` and ``Process.wait``.
WAIT_S = WAIT_MS / 1000
