import gc

import pytest

from gateway.http.runtime import tune_garbage_collector
from gateway.settings import RuntimeSettings, SettingsError, settings_from_mapping


@pytest.fixture
def restore_gc():
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)
    gc.unfreeze()


def test_runtime_table_is_read_and_checked():
    settings = settings_from_mapping({"runtime": {"gc_gen0_threshold": 5000, "gc_freeze_after_startup": False}})
    assert settings.runtime == RuntimeSettings(gc_gen0_threshold=5000, gc_freeze_after_startup=False)
    with pytest.raises(SettingsError, match="runtime.gc_gen0_threshold"):
        settings_from_mapping({"runtime": {"gc_gen0_threshold": -1}})
    with pytest.raises(SettingsError, match="runtime.gc_gen3"):
        settings_from_mapping({"runtime": {"gc_gen3": 1}})


def scanned_by_the_collector(obj: object) -> bool:
    """Whether the cyclic collector's generations hold `obj` (frozen objects are in none of them)."""
    return any(candidate is obj for candidate in gc.get_objects())


def test_tuning_sets_thresholds_and_freezes_startup_objects(restore_gc):
    gc.unfreeze()
    made_at_startup = [object() for _ in range(10)]   # a container: tracked by the collector
    assert scanned_by_the_collector(made_at_startup)
    assert tune_garbage_collector(RuntimeSettings(gc_gen0_threshold=12345, gc_gen1_threshold=7, gc_gen2_threshold=9)) == (12345, 7, 9)
    assert not scanned_by_the_collector(made_at_startup)
    assert gc.get_freeze_count() > 0


def test_without_freezing_startup_objects_stay_scanned(restore_gc):
    gc.unfreeze()
    made_at_startup = [object() for _ in range(10)]
    tune_garbage_collector(RuntimeSettings(gc_freeze_after_startup=False))
    assert scanned_by_the_collector(made_at_startup)
    assert gc.get_freeze_count() == 0


def test_zero_gen0_threshold_leaves_the_collector_alone(restore_gc):
    gc.set_threshold(700, 10, 10)
    assert tune_garbage_collector(RuntimeSettings(gc_gen0_threshold=0, gc_freeze_after_startup=False)) == (700, 10, 10)
