"""enrollments/ids.py: the audit rows' and events' new ids are version-7 UUIDs, in time order."""

import uuid

from enrollments.ids import time_ordered_ids

NOW_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def test_they_are_rfc_9562_version_7_with_the_time_first():
    ids = time_ordered_ids(3, now_ms=NOW_MS)
    assert [(i.version, i.variant) for i in ids] == [(7, uuid.RFC_4122)] * 3
    assert {i.int >> 80 for i in ids} == {NOW_MS}


def test_one_calls_ids_increase_and_the_counter_carries_into_the_time():
    ids = time_ordered_ids(10_000, now_ms=NOW_MS)
    assert ids == sorted(ids) and len(set(ids)) == 10_000
    assert ids[4095].int >> 80 == NOW_MS and ids[4096].int >> 80 == NOW_MS + 1
    assert (ids[4096].int >> 64) & 0xFFF == 0


def test_62_bits_are_random():
    first, second = time_ordered_ids(1, now_ms=NOW_MS)[0], time_ordered_ids(1, now_ms=NOW_MS)[0]
    assert first != second
    assert first.int >> 62 == second.int >> 62  # time, version, counter, variant: the same


def test_none_is_an_empty_list():
    assert time_ordered_ids(0) == []
