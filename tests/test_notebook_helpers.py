"""The shared notebook helpers (costlib.present.notebook): values worked out by hand."""
import pytest

from costlib.errors import InputError
from costlib.present.notebook import band_text, rounded, significant
from costlib.uncertainty import Band


def test_rounded_to_significant_figures():
    assert rounded(1234.5678, 3) == 1230.0
    assert rounded(0.00123456, 2) == 0.0012
    assert rounded(7, None) == 7.0 and type(rounded(7)) is float


def test_significant_has_separators_and_no_exponent():
    assert significant(1234567, 3) == "1,230,000"
    assert significant(0.012345, 2) == "0.012"
    assert significant(0) == "0"


def test_band_text_mid_first():
    assert band_text(Band(1.0, 2.0, 3.5), "{:.1f}") == "2.0 (1.0-3.5)"
    assert band_text(Band(1000.0, 2000.0, 3000.0), "{:,.0f}", scale=0.001) == "2 (1-3)"
    assert band_text(Band(5.0, 5.0, 5.0), "{:.0f}") == "5"


@pytest.mark.parametrize("bad", [True, "x", None])
def test_bad_values_name_the_parameter(bad):
    with pytest.raises(InputError, match="value"):
        rounded(bad, 3)


def test_bad_band():
    with pytest.raises(InputError, match="Band"):
        band_text((1, 2, 3))
