"""lms.settings_blocks.read_once: a value built from settings is built once, and again after one
of its settings changed (override_settings, pytest-django's `settings`), not after another."""

import gc

import pytest
from django.test import override_settings

from lms.settings_blocks import read_once


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
