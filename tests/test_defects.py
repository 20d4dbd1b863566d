"""Small defects that broke ordinary Python use: the params-only model and the explore docstring example."""
import copy
import doctest
import pickle

import pytest

from costlib.errors import InputError
from costlib.models import custom_model
from costlib.present import explore


def _params_only():
    m = custom_model(params=7e9)
    assert m.total_params == 7e9 and not hasattr(m, "layers")
    return m


def test_params_only_model_supports_hasattr_copy_and_pickle():
    m = _params_only()
    assert getattr(m, "layers", None) is None
    assert copy.copy(m).id == m.id and copy.deepcopy(m).total_params == 7e9
    assert pickle.loads(pickle.dumps(m)).active_params == 7e9


def test_params_only_model_still_says_what_is_missing():
    m = _params_only()
    with pytest.raises(InputError, match="'layers' is unknown for --params"):
        m.layers
    with pytest.raises(AttributeError):
        m.kv_heads


def test_explore_docstring_example_runs():
    result = doctest.testmod(explore, verbose=False)
    assert result.attempted >= 3 and result.failed == 0
