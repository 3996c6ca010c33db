"""Shared containers: copies that share storage behave as independent lists and mappings."""

from __future__ import annotations

import random

import pytest

from deep_tui.shared import CHUNK, SharedList, SharedMap


def test_it_holds_what_was_appended_across_chunks():
    items = SharedList(range(3 * CHUNK + 5))
    assert list(items) == list(range(3 * CHUNK + 5)) and len(items) == 3 * CHUNK + 5
    assert items[0] == 0 and items[CHUNK] == CHUNK and items[-1] == 3 * CHUNK + 4
    assert items[CHUNK - 2 : CHUNK + 2] == [CHUNK - 2, CHUNK - 1, CHUNK, CHUNK + 1]
    with pytest.raises(IndexError):
        items[3 * CHUNK + 5]


def test_a_copy_and_its_original_change_apart():
    original = SharedList(range(2 * CHUNK + 10))
    copy = original.copy()
    original[3] = "original"
    original.append("appended to the original")
    copy[CHUNK + 1] = "copy"
    copy.append("appended to the copy")
    copy.append("and again")
    expected_original = list(range(2 * CHUNK + 10)) + ["appended to the original"]
    expected_original[3] = "original"
    expected_copy = list(range(2 * CHUNK + 10)) + ["appended to the copy", "and again"]
    expected_copy[CHUNK + 1] = "copy"
    assert list(original) == expected_original
    assert list(copy) == expected_copy


def test_copies_of_copies_follow_a_list_under_random_changes():
    rng = random.Random(3)
    shared = [SharedList[int]()]
    plain: list[list[int]] = [[]]
    for step in range(5000):
        which = rng.randrange(len(shared))
        action = rng.random()
        if action < 0.6:
            shared[which].append(step)
            plain[which].append(step)
        elif action < 0.9 and plain[which]:
            index = rng.randrange(len(plain[which]))
            shared[which][index] = -step
            plain[which][index] = -step
        elif len(shared) < 12:
            shared.append(shared[which].copy())
            plain.append(list(plain[which]))
    assert [list(s) for s in shared] == plain


def test_equal_lists_compare_equal():
    assert SharedList([1, 2]) == SharedList([1, 2]).copy()
    assert SharedList([1, 2]) != SharedList([1, 3])
    assert SharedList([1]) != SharedList([1, 1])


def test_a_shared_map_keeps_keys_in_order_and_replaces_values():
    files = SharedMap[str, int]()
    for n in range(600):
        files[f"/f{n}"] = n
    files["/f3"] = -3
    assert list(files)[:3] == ["/f0", "/f1", "/f2"] and len(files) == 600
    assert files["/f3"] == -3 and files.get("/nope") is None and "/f599" in files


def test_copies_of_a_shared_map_follow_a_dict_under_random_changes():
    rng = random.Random(5)
    shared = [SharedMap[str, int]()]
    plain: list[dict[str, int]] = [{}]
    for step in range(5000):
        which = rng.randrange(len(shared))
        if rng.random() < 0.9:
            key = f"k{rng.randrange(400)}"
            shared[which][key] = step
            plain[which][key] = step
        elif len(shared) < 12:
            shared.append(shared[which].copy())
            plain.append(dict(plain[which]))
    for mapping, expected in zip(shared, plain, strict=True):
        assert dict(mapping.items()) == expected and list(mapping) == list(expected)
        assert all(key not in mapping for key in (f"k{n}" for n in range(400)) if key not in expected)
