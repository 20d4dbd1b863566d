"""costlib.uncertainty.Band operations, hand-worked."""
import numpy as np
import pytest

from costlib.errors import InputError
from costlib.uncertainty import Band


def test_from_values_is_min_median_max():
    b = Band.from_values([3.0, 1.0, 10.0, 2.0])
    assert (b.low, b.mid, b.high) == (1.0, 2.5, 10.0)
    with pytest.raises(InputError, match="values="):
        Band.from_values([])


def test_arithmetic_pairs_like_with_like():
    hours, price = Band(10, 20, 40), Band(1.0, 2.0, 5.0)
    cost = hours * price
    assert (cost.low, cost.mid, cost.high) == (10, 40, 200)
    assert tuple(hours + price) == (11, 22, 45)
    assert tuple(hours + 1) == (11, 21, 41) and tuple(2 * hours) == (20, 40, 80)
    assert tuple(hours * -1) == (-40, -20, -10)
    # dollars per token: the cheapest price over the highest throughput
    per = price / Band(100, 200, 400)
    assert (per.low, per.mid, per.high) == (1.0 / 400, 2.0 / 200, 5.0 / 100)
    assert tuple(hours / 10) == (1, 2, 4)
    with pytest.raises(InputError):
        hours / 0
    with pytest.raises(InputError):
        Band(-1, 0, 1) * Band(1, 1, 1)


def test_width_ratio_and_contains():
    assert Band(2, 3, 8).width_ratio == 4.0
    assert Band(0, 1, 2).width_ratio == float("inf")
    assert Band(2, 3, 8).contains(8) and not Band(2, 3, 8).contains(8.01)


def test_arrays_broadcast():
    b = Band(np.array([1.0, 2.0]), np.array([2.0, 3.0]), np.array([3.0, 4.0])) * Band.point(2.0)
    assert b.high.tolist() == [6.0, 8.0]
