"""The Run tab's Preview: the same preview as ``poolside run --dry-run``, one click before Run, computed off
the GUI thread; its Run starts the job; a run's ETA starts from the history's forecast."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import Qt

from poolside.resources import samples
from tests.waits import WAIT_MS


def _images(tmp_path: Path) -> Path:
    folder = tmp_path / "images"
    with samples() as bundled:
        shutil.copytree(Path(bundled) / "images", folder)
    return folder


def test_preview_lists_outputs_and_collisions_writes_nothing_and_runs_from_the_dialog(driver, qtbot, tmp_path):
    images = _images(tmp_path)
    out = tmp_path / "thumbs"
    out.mkdir()
    (out / "icon.png").write_bytes(b"an earlier thumbnail")
    driver.add_files([images])
    driver.choose_plugin("thumbnail", out=str(out))
    driver.choose_backend("threads", workers=2)
    ws = driver.run_ws
    assert ws.preview_button.text() == "Preview" and ws.preview_button.accessibleName() == "Preview"
    with qtbot.waitSignal(ws.preview.worker.ready, timeout=WAIT_MS):
        qtbot.mouseClick(ws.preview_button, Qt.MouseButton.LeftButton)
    dialog = ws.preview.dialog
    assert dialog is not None and dialog.isVisible()
    text = dialog.text.toPlainText()
    assert "thumbnail: 6 items on threads ×2" in text
    assert "Outputs: 5 new, 1 renamed." in text
    assert f"icon.png → {out / 'icon-1.png'} (renamed: icon.png exists)" in text
    assert dialog.forecast.text().startswith("No predicted duration: the history has no study of this job")
    assert sorted(p.name for p in out.iterdir()) == ["icon.png"]  # nothing written by the preview
    assert dialog.run_button.accessibleName() == "Run" and dialog.close_button.accessibleName() == "Close"
    with qtbot.waitSignal(driver.window.runFinished, timeout=WAIT_MS) as finished:
        qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    assert finished.args[0].counts["ok"] == 6 == finished.args[0].total
    assert not dialog.isVisible()
    assert (out / "icon-1.png").exists()  # as the preview said
    # The run is in the history now: the next preview predicts from it.
    with qtbot.waitSignal(ws.preview.worker.ready, timeout=WAIT_MS):
        ws.preview_action.trigger()
    assert dialog.forecast.text().startswith("≈ ") and "on threads ×2" in dialog.forecast.text()
    assert "(the history's run " in dialog.forecast.text()
    dialog.close_button.click()


def test_time_a_few_items_predicts_in_a_run_host_and_writes_nothing(driver, qtbot, tmp_path):
    images = _images(tmp_path)
    out = tmp_path / "thumbs"
    driver.add_files([images])
    driver.choose_plugin("thumbnail", out=str(out))
    driver.choose_backend("threads", workers=2)
    ws = driver.run_ws
    with qtbot.waitSignal(ws.preview.worker.ready, timeout=WAIT_MS):
        ws.show_preview()
    dialog = ws.preview.dialog
    assert dialog.sample_button.isVisible() and dialog.sample_button.accessibleName() == "Time a Few Items"
    with qtbot.waitSignal(ws.preview.worker.sampled, timeout=WAIT_MS) as sampled:
        qtbot.mouseClick(dialog.sample_button, Qt.MouseButton.LeftButton)
    spec, forecast = sampled.args
    assert isinstance(forecast, dict) and forecast["items"] == 6, forecast
    assert dialog.forecast.text().startswith("≈ ") and "a sample of this job run just now" in dialog.forecast.text()
    assert not dialog.sample_button.isVisible()
    assert not out.exists()  # the sample's outputs went to a scratch folder, deleted
    driver.window.history_ws.refresh()
    assert driver.window.history_ws.model.rowCount() == 0  # and nothing was recorded
    dialog.close_button.click()


def test_a_run_starts_its_eta_from_the_forecast(driver, qtbot, tmp_path):
    folder = tmp_path / "texts"
    folder.mkdir()
    for i in range(4):
        (folder / f"t{i}.txt").write_text("word " * 50)
    driver.add_files([folder])
    driver.choose_plugin("wordcount")
    driver.choose_backend("threads", workers=2)
    driver.run_and_wait()  # the history's first run of this job
    ws = driver.run_ws
    with (qtbot.waitSignal(ws.preview.worker.predicted, timeout=WAIT_MS) as predicted,
          qtbot.waitSignal(driver.window.runFinished, timeout=WAIT_MS)):
        assert ws.start_run()
    spec, forecast = predicted.args
    assert spec.plugin == "wordcount" and forecast is not None and forecast["items"] == 4


def test_preview_says_why_a_job_cannot_run(driver, qtbot):
    messages: list[str] = []
    driver.run_ws.message.connect(messages.append)
    driver.choose_plugin("wordcount")
    assert driver.run_ws.show_preview() is None  # no files yet
    assert messages[-1] == "Add some files first."


def test_the_eta_follows_the_forecast_until_a_tenth_is_done_then_the_measured_rate():
    from poolside.gui.bridge import Progress

    p = Progress(total=100, elapsed_s=10.0, forecast_s=190.0)
    assert p.eta_s == 180.0
    p.counts = {"ok": 20}  # 2 items/s measured: 80 left
    assert p.eta_s == 40.0
    assert Progress(total=100, elapsed_s=10.0).eta_s is None  # no forecast, nothing done: no ETA yet
