"""The Files panel: its model (duplicates, totals, the task's filter), the folder walk and its patterns."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("PySide6")


from poolside.gui.workspaces.run.files_model import FilesModel
from poolside.gui.workspaces.run.scanner import parse_patterns, walk


def test_files_model_ignores_duplicates_and_keeps_totals(qtbot, tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(b"x" * 10)
    b.write_bytes(b"y" * 5)
    m = FilesModel()
    changes: list = []
    m.changed.connect(lambda n, size: changes.append((n, size)))
    assert m.add_files([a, b, a]) == 2
    assert m.add_files([str(b), tmp_path / "missing"]) == 0
    assert len(m) == 2 and m.total_bytes == 15 and changes[-1] == (2, 15)
    assert m.index(0, 0).data() == "a.txt" and m.index(0, 1).data() == "10 B"
    assert str(a) in m
    m.remove_rows([0])
    assert m.paths() == [str(b)] and m.total_bytes == 5
    m.clear()
    assert len(m) == 0 and changes[-1] == (0, 0)


def test_files_model_removes_many_scattered_rows(qtbot):
    m = FilesModel()
    m.add((f"/x/{i}", i) for i in range(1_000))
    assert m.remove_rows(range(0, 1_000, 2)) == 500  # 500 ranges: one reset
    assert m.paths()[:3] == ["/x/1", "/x/3", "/x/5"]
    assert m.total_bytes == sum(range(1, 1_000, 2))
    assert m.add([("/x/0", 0)]) == 1  # removed paths can come back


def test_walk_recurses_filters_and_keeps_special_files_for_the_task_to_report(tmp_path):
    (tmp_path / "top" / "sub").mkdir(parents=True)
    (tmp_path / "top" / "a.PNG").write_bytes(b"1")
    (tmp_path / "top" / "sub" / "b.png").write_bytes(b"22")
    (tmp_path / "top" / "sub" / "c.txt").write_bytes(b"333")
    os.mkfifo(tmp_path / "top" / "pipe.png")
    os.symlink(tmp_path / "top" / "sub", tmp_path / "top" / "loop")  # not followed
    found = list(walk(str(tmp_path / "top"), parse_patterns("*.png")))
    assert [(os.path.basename(p), size, shown) for p, size, shown in found] == [
        ("a.PNG", 1, os.path.join("top", "a.PNG")),
        ("pipe.png", 0, os.path.join("top", "pipe.png")),  # the task fails it, clearly
        ("b.png", 2, os.path.join("top", "sub", "b.png")),
    ]
    assert len(list(walk(str(tmp_path / "top")))) == 4  # the symlinked folder is not followed


def test_parse_patterns():
    assert parse_patterns(" *.png; *.jpg,*.gif ") == ["*.png", "*.jpg", "*.gif"]
    assert parse_patterns("*") == [] and parse_patterns("") == []


def test_files_the_task_does_not_accept_are_hidden_kept_and_counted(qtbot, tmp_path):
    names = ["a.txt", "b.jpg", "c.md", "d.JPG"]
    for n in names:
        (tmp_path / n).write_bytes(b"x")
    model = FilesModel()
    model.add_files([tmp_path / n for n in names])
    model.set_accepts(["*.txt", "*.md"])
    assert [os.path.basename(p) for p in model.paths()] == ["a.txt", "c.md"]  # what a run gets
    assert model.hidden_count == 2
    model.add_files([tmp_path / "b.jpg"])  # hidden, not added twice
    assert model.hidden_count == 2 and len(model) == 2
    model.set_accepts(["*.jpg"])
    assert [os.path.basename(p) for p in model.paths()] == ["b.jpg", "d.JPG"]
    model.set_accepts(())  # a task that takes any file: all back, in the order they were added
    assert [os.path.basename(p) for p in model.paths()] == names and model.hidden_count == 0


def test_switching_the_plugin_refilters_the_list_and_the_footer_says_so(qtbot, driver, tmp_path):
    for n in ("a.txt", "photo.jpg"):
        (tmp_path / n).write_bytes(b"one two")
    driver.choose_plugin("sha256")  # any file
    driver.add_files([tmp_path / "a.txt", tmp_path / "photo.jpg"])
    assert len(driver.run_ws.files.model) == 2
    driver.choose_plugin("wordcount")  # text only: the JPEG must not run through it
    assert [os.path.basename(p) for p in driver.run_ws.files.model.paths()] == ["a.txt"]
    assert "1 hidden" in driver.run_ws.files.footer.text()
    driver.choose_plugin("sha256")
    assert len(driver.run_ws.files.model) == 2 and "hidden" not in driver.run_ws.files.footer.text()
