"""The Universal Scalability Law fitted on a study's worker counts: recovered parameters, peak, predictions.

The runs are a real study's (``grid_cpu.json``), scaled with ``timed`` so that
each configuration's median follows a curve of known contention and coherency.
"""

from __future__ import annotations

import dataclasses

import pytest

from poolside.study.recommend import fill_speedups, scaling
from poolside.study.scaling import fit, fits, usl
from poolside.words.study import prediction_sentence, scaling_sentence
from tests.study_fakes import config_of, study, timed


def curve(sigma: float, kappa: float, workers=(1, 2, 4), backend: str = "processes"):
    """The real study's baseline and ``backend`` configurations, their medians on a known USL curve."""
    record = study()
    base = config_of(record, "sequential")
    members = []
    for w in workers:  # the study went to 4 workers: more are its 4-worker runs, relabelled
        real = config_of(record, backend, min(w, 4))
        real = dataclasses.replace(real, config=dataclasses.replace(real.config, workers=w))
        members.append(timed(real, base.median_s / usl(w, 1.0, sigma, kappa)))
    configs = [base, *members]
    fill_speedups(configs)
    return configs


def test_the_fit_recovers_known_contention_and_coherency():
    configs = curve(0.1, 0.02, workers=(1, 2, 4, 8))
    model = fit("processes", configs[1:], configs[0])
    assert model is not None
    assert model.sigma == pytest.approx(0.1, abs=0.02) and model.kappa == pytest.approx(0.02, abs=0.005)
    assert model.peak_workers == pytest.approx((0.9 / 0.02) ** 0.5, rel=0.15) and model.retrograde
    p = model.predict(16)
    assert p["low"] <= usl(16, 1.0, 0.1, 0.02) * 1.05 and p["high"] >= usl(16, 1.0, 0.1, 0.02) * 0.95
    assert p["low"] <= p["speedup"] <= p["high"] and not p["measured"]


def test_pure_contention_levels_off_without_a_peak():
    configs = curve(0.2, 0.0)
    model = fit("processes", configs[1:], configs[0])
    assert model is not None and model.kappa < 1e-3
    assert model.peak_workers is None or model.peak_workers > 30
    assert "levels off" in scaling_sentence(model.to_dict()) or "peaks at about" in scaling_sentence(model.to_dict())


def test_two_worker_counts_fit_no_model():
    configs = curve(0.1, 0.01, workers=(1, 2))
    assert fit("processes", configs[1:], configs[0]) is None
    assert "model" not in scaling(configs, 2)


def test_the_json_holds_the_model_and_labelled_predictions():
    configs = curve(0.05, 0.01)
    out = scaling(configs, 2, backend="processes", predict=[32, 64])
    assert set(out["model"]) >= {"kind", "sigma", "kappa", "peak_workers", "retrograde"}
    assert out["model"]["kind"] == "usl" and out["model"]["retrograde"] is True
    assert [(p["backend"], p["workers"]) for p in out["predictions"]] == [("processes", 32), ("processes", 64)]
    assert all({"backend", "workers", "speedup", "low", "high"} <= set(p) for p in out["predictions"])
    assert prediction_sentence(out["predictions"][0]).startswith("predicted: processes ×32 ≈ ")
    assert "peaks at about 10 workers" in scaling_sentence(out["model"])


def test_every_series_with_three_counts_gets_a_model_from_a_real_study():
    models = fits(study().configs)
    assert {"threads", "processes", "mp-pool", "mp-pool imap"} == set(models)
    for model in models.values():
        assert 0 <= model.sigma <= 1 and 0 <= model.kappa <= 1 and len(model.samples) > 50


def test_a_model_read_back_from_the_json_predicts_the_same():
    from poolside.study.scaling import UslFit

    configs = curve(0.05, 0.01, workers=(1, 2, 4, 8))
    model = fit("processes", configs[1:], configs[0])
    again = UslFit.from_dict(model.to_dict())
    for n in (3, 32):
        assert again.predict(n)["speedup"] == pytest.approx(model.predict(n)["speedup"], rel=1e-4)
        assert again.predict(n)["low"] == pytest.approx(model.predict(n)["low"], rel=1e-3)
    with pytest.raises(ValueError, match="workers must be 1 or more"):
        again.predict(0)
