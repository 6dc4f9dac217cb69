"""lms.settings_blocks: a value built from settings is built once, and again after one of its
settings changed (override_settings, pytest-django's `settings`), not after another; a
settings_block reader is given the block it names."""

import gc

import pytest
from django.test import override_settings

from lms.settings_blocks import read_once, settings_block


def counting_reader(*names: str):
    builds = []

    @read_once(*names)
    def reader() -> int:
        builds.append(1)
        return len(builds)

    return reader, builds


def test_the_value_is_built_once():
    reader, builds = counting_reader("SETTINGS_BLOCKS_TEST")
    assert [reader(), reader(), reader()] == [1, 1, 1]
    assert len(builds) == 1


def test_a_named_setting_changing_builds_it_again(settings):
    reader, _builds = counting_reader("SETTINGS_BLOCKS_TEST", "SETTINGS_BLOCKS_OTHER")
    assert reader() == 1
    settings.SETTINGS_BLOCKS_TEST = {"A": 1}
    assert reader() == 2
    with override_settings(SETTINGS_BLOCKS_OTHER=True):
        assert reader() == 3
    assert reader() == 4  # the override's end is a change too


def test_another_setting_changing_keeps_the_value(settings):
    reader, builds = counting_reader("SETTINGS_BLOCKS_TEST")
    assert reader() == 1
    settings.SETTINGS_BLOCKS_UNRELATED = 1
    assert reader() == 1
    assert len(builds) == 1


def test_the_receiver_outlives_garbage_collection(settings):
    """The signal's receiver is held strongly: a collection does not disconnect it."""
    reader, _builds = counting_reader("SETTINGS_BLOCKS_TEST")
    assert reader() == 1
    gc.collect()
    settings.SETTINGS_BLOCKS_TEST = {"A": 2}
    assert reader() == 2


def test_a_reader_without_settings_is_refused():
    with pytest.raises(ValueError, match="names of the settings"):
        read_once()


def test_a_settings_block_reader_gets_the_block_and_builds_again_when_it_changes(settings):
    settings.SETTINGS_BLOCKS_TEST = {"SIZE": 3}
    seen = []

    @settings_block("SETTINGS_BLOCKS_TEST")
    def size(configured) -> int:
        """The block's size."""
        seen.append(dict(configured))
        return configured["SIZE"]

    assert (size.__name__, size.__doc__) == ("size", "The block's size.")
    assert [size(), size()] == [3, 3]
    settings.SETTINGS_BLOCKS_OTHER = 1
    assert size() == 3
    settings.SETTINGS_BLOCKS_TEST = {"SIZE": 5}
    assert size() == 5
    assert seen == [{"SIZE": 3}, {"SIZE": 5}]


def test_a_settings_block_reader_of_a_missing_setting_fails_when_called():
    @settings_block("SETTINGS_BLOCKS_MISSING")
    def missing(configured) -> int:
        return 1

    with pytest.raises(AttributeError, match="SETTINGS_BLOCKS_MISSING"):
        missing()
