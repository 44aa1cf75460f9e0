import pytest

from casegraph.finance.tron import USDT_TRC20, from_hex, is_genuine_usdt, to_hex


def test_round_trip_with_tethers_contract():
    h = to_hex(USDT_TRC20)
    assert h == "41a614f803b6fd780986a42c78ec9c7f77e6ded13c"  # as TRON's own tools print it
    assert from_hex(h) == USDT_TRC20 and from_hex("0x" + h[2:]) == USDT_TRC20


def test_genuine_usdt_and_bad_input():
    assert is_genuine_usdt(USDT_TRC20) and is_genuine_usdt("41a614f803b6fd780986a42c78ec9c7f77e6ded13c")
    assert not is_genuine_usdt("TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf") and not is_genuine_usdt(None)
    with pytest.raises(ValueError):
        to_hex("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u")  # one character changed: checksum fails
