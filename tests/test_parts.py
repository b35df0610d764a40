"""Parts of a bounded size, as transactions, reads and jobs take their work."""

from __future__ import annotations

from intake.parts import by_size


def test_parts_stay_within_their_bound_and_a_large_item_goes_alone():
    sizes = [3, 4, 2, 9, 1, 1, 1]
    assert list(by_size(sizes, lambda size: size, 7)) == [[3, 4], [2], [9], [1, 1, 1]]
    assert list(by_size(sizes, lambda size: size, 7, most_items=2)) == [
        [3, 4], [2], [9], [1, 1], [1]]
    assert list(by_size([], lambda size: size, 7)) == []
