"""costlib.cache.memo: one computation per distinct input, shared read-only results."""
import numpy as np
import pytest

from costlib.cache import memo
from costlib.errors import InputError
from costlib.uncertainty import Band


def counted(maxsize=8):
    calls = []

    @memo(maxsize=maxsize)
    def sweep(batches, prompt_tokens=512, *, scale=1.0):
        calls.append(1)
        b = np.asarray(batches, dtype=float)
        return b * prompt_tokens * scale

    return sweep, calls


def test_equal_arrays_hit_and_different_contents_miss():
    sweep, calls = counted()
    a = sweep(np.array([1, 2, 4]))
    b = sweep(np.array([1, 2, 4]))  # a different object, the same contents
    assert b is a and len(calls) == 1
    np.testing.assert_array_equal(a, [512.0, 1024.0, 2048.0])  # 1*512, 2*512, 4*512
    sweep(np.array([1, 2, 8]))
    sweep(np.array([1, 2, 4], dtype=np.int32))  # same values, another dtype: another key
    sweep(np.array([[1, 2, 4]]))  # another shape
    assert len(calls) == 4
    assert sweep.cache_info()[:3] == (1, 4, 0)


def test_keyword_and_list_arguments_are_keys():
    sweep, calls = counted()
    sweep([1, 2], 128, scale=2.0)
    sweep([1, 2], 128, scale=2.0)
    sweep([1, 2], 128, scale=3.0)
    sweep((1, 2), 128, scale=2.0)  # a tuple is not the same key as a list
    assert len(calls) == 3


def test_results_are_read_only_so_a_caller_cannot_corrupt_the_next():
    sweep, _ = counted()
    out = sweep([1, 2, 3])
    with pytest.raises(ValueError):
        out[0] = -1.0
    assert sweep([1, 2, 3])[0] == 512.0

    @memo()
    def band(x):
        return Band(np.asarray(x) * 0.5, np.asarray(x) * 1.0, np.asarray(x) * 2.0)

    b = band([1.0, 2.0])
    with pytest.raises(ValueError):
        b.high[0] = 0.0


def test_least_recently_used_result_leaves_first():
    sweep, calls = counted(maxsize=2)
    sweep([1]); sweep([2]); sweep([1]); sweep([3])  # noqa: E702  [2] is the least recently used
    assert sweep.cache_info().currsize == 2
    sweep([1])
    assert len(calls) == 3
    sweep([2])
    assert len(calls) == 4


def test_unhashable_argument_is_computed_not_cached():
    calls = []

    @memo()
    def f(obj):
        calls.append(1)
        return len(obj.items)

    class Bag:  # unhashable: defines __eq__ without __hash__
        def __init__(self):
            self.items = [1, 2]

        def __eq__(self, other):
            return True

    assert f(Bag()) == 2 and f(Bag()) == 2
    assert len(calls) == 2 and f.cache_info().uncached == 2


def test_cache_clear_and_bad_maxsize():
    sweep, calls = counted()
    sweep([1])
    sweep.cache_clear()
    sweep([1])
    assert len(calls) == 2 and sweep.cache_info().misses == 1
    with pytest.raises(InputError, match="maxsize=0"):
        memo(maxsize=0)


def test_a_band_of_arrays_is_a_key():
    calls = []

    @memo()
    def width(b):
        calls.append(1)
        return float(np.max(b.high - b.low))

    assert width(Band(np.array([1.0]), np.array([2.0]), np.array([4.0]))) == 3.0
    assert width(Band(np.array([1.0]), np.array([2.0]), np.array([4.0]))) == 3.0
    assert width(Band(np.array([1.0]), np.array([2.0]), np.array([5.0]))) == 4.0
    assert len(calls) == 2
