"""The whole job's predicted wall time: the point, its range, and how it reads."""

from __future__ import annotations

import pytest

from poolside.study.forecast import Forecast, forecast
from poolside.study.plan import Config
from poolside.words.study import forecast_basis, forecast_sentence
from poolside.words.units import approx_duration

EVEN = [0.010, 0.011, 0.009, 0.010, 0.012, 0.008, 0.010, 0.011, 0.009, 0.010]
# One big item in ten: the mean is uncertain mostly towards slow.
HEAVY = [0.01] * 9 + [0.5]


def test_the_point_is_the_mean_item_time_over_the_speed_up_plus_start_up():
    f = forecast(1000, EVEN, config=Config("processes", 2), speedup=1.8, startup_s=0.3)
    assert f.seconds == pytest.approx(0.3 + 1000 * 0.010 / 1.8)
    assert f.low < f.seconds < f.high
    assert (f.sampled, f.items, f.speedup, f.config) == (10, 1000, 1.8, Config("processes", 2))


def test_a_sample_that_is_the_whole_job_forecasts_it_exactly():
    f = forecast(len(HEAVY), HEAVY)
    assert f.low == f.seconds == f.high == pytest.approx(sum(HEAVY))


def test_the_range_widens_with_the_spread_and_leans_to_the_slow_side_on_a_heavy_tail():
    even, heavy = forecast(10_000, EVEN), forecast(10_000, HEAVY)
    assert (even.high - even.low) / even.seconds < 0.2 < (heavy.high - heavy.low) / heavy.seconds
    assert heavy.high - heavy.seconds > heavy.seconds - heavy.low


def test_more_items_measured_narrow_the_range():
    few, many = forecast(10_000, HEAVY), forecast(10_000, HEAVY * 10)
    assert many.high - many.low < few.high - few.low


def test_the_speed_up_range_widens_the_forecast_and_the_seed_repeats_it():
    fixed = forecast(500, EVEN, speedup=2.0)
    spread = forecast(500, EVEN, speedup=2.0, speedup_range=(1.6, 2.3))
    assert spread.seconds == fixed.seconds and spread.low < fixed.low and spread.high > fixed.high
    assert forecast(500, HEAVY, seed=3) == forecast(500, HEAVY, seed=3)


def test_no_items_take_no_time():
    f = forecast(0, EVEN, startup_s=1.0)
    assert f.seconds == f.low == f.high == 0.0


@pytest.mark.parametrize(("items", "times", "options", "message"), [
    (-1, EVEN, {}, "items must be 0 or more"),
    (10, [], {}, "no per-item times"),
    (10, [0.1, float("nan")], {}, "finite"),
    (10, [0.1, -0.1], {}, "not negative"),
    (10, EVEN, {"speedup": 0.0}, "speed-up must be above 0"),
    (10, EVEN, {"speedup": 2.0, "speedup_range": (2.1, 2.5)}, "must be above 0 and hold 2.0"),
    (10, EVEN, {"startup_s": -1.0}, "start-up must not be negative"),
])
def test_bad_numbers_are_refused_with_the_reason(items, times, options, message):
    with pytest.raises(ValueError, match=message):
        forecast(items, times, **options)


def test_a_forecast_survives_its_dict():
    f = forecast(1234, HEAVY, config=Config("threads", 8, 16), speedup=3.0, speedup_range=(2.5, 3.2),
                 startup_s=0.01)
    assert Forecast.from_dict(f.to_dict()) == f


def test_it_reads_as_the_issue_writes_it():
    f = Forecast(12_000, 190.0, 170.0, 220.0, Config("processes", 2), 24, 0.03, 1.9)
    assert forecast_sentence(f, "files") == "12,000 files ≈ 3 min 10 s on processes ×2 (2 min 50 s – 3 min 40 s)"
    assert forecast_sentence(f.to_dict(), "files") == forecast_sentence(f, "files")
    assert forecast_basis(f) == "from 24 items measured at 30.0 ms each, and a 1.90× speed-up"
    exact = Forecast(20, 4.0, 4.0, 4.0, Config("sequential", 1), 20, 0.2, 1.0)
    assert forecast_sentence(exact) == "20 items ≈ 4.0 s on sequential"


@pytest.mark.parametrize(("seconds", "text"), [
    (None, "–"), (0.04, "0.0 s"), (9.94, "9.9 s"), (9.96, "10 s"), (59.4, "59 s"), (59.6, "1 min"),
    (190.0, "3 min 10 s"), (3594.0, "59 min 50 s"), (3596.0, "1 h"), (7500.0, "2 h 5 min"),
    (86_400.0, "1 d"), (97_200.0, "1 d 3 h"),
])
def test_a_predicted_duration_is_as_coarse_as_a_prediction(seconds, text):
    assert approx_duration(seconds) == text


def test_a_stored_study_forecasts_a_job_of_another_size_on_any_configuration_it_measured():
    from poolside.study.recommend import job_forecast
    from tests.study_fakes import study

    record = study()
    assert job_forecast(record) == record.forecast  # what the study kept is what it forecasts
    bigger = job_forecast(record, items=12_000)
    assert bigger is not None and bigger.items == 12_000 and bigger.seconds > record.forecast.seconds * 100
    threads = job_forecast(record, items=12_000, config=Config("threads", 2))
    assert threads is not None and threads.config == Config("threads", 2) and threads.seconds > bigger.seconds
    assert job_forecast(record, config=Config("threads", 64)) is None  # not measured: no forecast
