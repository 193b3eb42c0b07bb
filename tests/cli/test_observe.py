"""``poolside observe``'s command line: the --json shape, --trace, the history, usage errors."""

from __future__ import annotations

import json
import sys

from poolside.cli.main import main
from tests.observe.conftest import PROGRAMS


def test_json_has_the_documented_shape_and_the_history_keeps_it(tmp_path, capsys):
    out, trace = tmp_path / "o.json", tmp_path / "o.trace"
    code = main(["observe", "--json", str(out), "--trace", str(trace), "--interval", "0.1", "--",
                 sys.executable, str(PROGRAMS / "executor.py")])
    assert code == 0
    record = json.loads(out.read_text())
    assert set(record) == {"command", "exit_code", "wall_s", "machine", "processes", "verdict"}
    assert record["command"][-1].endswith("executor.py")
    for p in record["processes"]:
        assert set(p) == {"pid", "role", "pool", "cpu_s", "peak_rss_mb", "threads"}
        for t in p["threads"]:
            assert set(t) == {"tid", "name", "cpu_s", "wait_s"}
    assert set(record["verdict"]) == {"kind", "why", "evidence"}
    events = json.loads(trace.read_text())["traceEvents"]
    names = {e["args"]["name"] for e in events if e["name"] == "process_name"}
    assert any(n.startswith("worker of ProcessPoolExecutor") for n in names)
    assert any(e["ph"] == "C" and e["name"].startswith("thread ") for e in events)  # a counter per thread
    assert any(e["ph"] == "C" and e["name"] == "RSS (bytes)" for e in events)
    err = capsys.readouterr().err
    assert "verdict:" in err and "kept in the history as #" in err

    from poolside.history import store
    from poolside.history.observations import get_observation

    conn = store.connect()
    try:
        run_id = store.last_run_id(conn, "observe")
        assert run_id is not None
        assert get_observation(conn, run_id) == json.loads(json.dumps(record))
    finally:
        conn.close()
    assert main(["history", "show", str(run_id)]) == 0
    assert "worker of ProcessPoolExecutor" in capsys.readouterr().out


def test_usage_errors(capsys):
    assert main(["observe"]) == 2
    assert "give a command to run after '--', or --pid PID" in capsys.readouterr().err
    assert main(["observe", "--pid", "1", "--", "true"]) == 2
    assert main(["observe", "--", "no-such-program-here"]) == 2
    assert "command not found: no-such-program-here" in capsys.readouterr().err


def test_ctrl_c_ends_an_attached_observation_not_the_process(tmp_path):
    import signal
    import subprocess

    from tests.waits import WAIT_S

    program = subprocess.Popen([sys.executable, "running.py"], cwd=PROGRAMS, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert program.stdout is not None and program.stdout.readline().strip() == "ready"
        out = tmp_path / "o.json"
        observe = subprocess.Popen([sys.executable, "-m", "poolside", "observe", "--json", str(out),
                                    "--pid", str(program.pid)], stderr=subprocess.PIPE, text=True)
        assert observe.stderr is not None
        assert "Ctrl-C ends the observation, not the process" in observe.stderr.readline()
        observe.send_signal(signal.SIGINT)
        err = observe.stderr.read()
        assert observe.wait(WAIT_S) == 130
        assert "observation stopped (the process goes on)" in err
        assert program.poll() is None  # still running
        assert json.loads(out.read_text())["exit_code"] is None
    finally:
        assert program.stdin is not None
        program.stdin.close()
        program.wait(WAIT_S)


def test_a_program_over_before_the_first_sample_is_still_seen(tmp_path, capsys):
    out = tmp_path / "o.json"
    assert main(["observe", "--json", str(out), "--", sys.executable, "-c", "raise SystemExit(4)"]) == 4
    record = json.loads(out.read_text())
    assert [p["role"] for p in record["processes"]] == ["main"]  # its zombie's stat, read before it is reaped
    assert record["verdict"]["evidence"]["too_short"] is True
    assert "Too short to judge." in capsys.readouterr().err
