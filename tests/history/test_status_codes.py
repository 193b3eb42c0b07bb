"""The byte the history stores per item keeps its meaning: databases written before still read."""

from poolside.history import store
from poolside.records import STATUS_ORDER


def test_the_stored_status_codes_never_change():
    # Written into every database's batches: changing one misreads every run recorded before.
    assert store.STATUS_CODES == {"ok": 0, "failed": 1, "timed_out": 2, "cancelled": 3}
    assert list(store.STATUS_CODES) == [s.value for s in STATUS_ORDER]
    assert store.STATUS_NAMES == {0: "ok", 1: "failed", 2: "timed_out", 3: "cancelled"}
