"""The register value format: unit, length, sign-and-exponent byte, mantissa."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meter_protocols.errors import ProtocolError
from meter_protocols.kmp import values as v


def _value(sign_exponent: int, mantissa: bytes) -> v.RegisterValue:
    return v.RegisterValue(0x0001, v.KWH, sign_exponent, mantissa)


def test_sign_and_exponent_bits() -> None:
    assert _value(0x02, b"\x01\x00").value == Decimal(25600)  # 256 * 10^2
    assert _value(0x42, b"\x01\x00").value == Decimal("2.56")  # bit 6: exponent negative
    assert _value(0x82, b"\x01\x00").value == Decimal(-25600)  # bit 7: mantissa negative
    assert _value(0xC3, b"\x04\xd2").value == Decimal("-1.234")
    assert _value(0x7F, b"\x01").exponent == -63
    assert _value(0x00, b"").value == 0


def test_encoder_uses_the_register_resolution_exactly() -> None:
    # 12345.678 kWh at 10 Wh resolution: mantissa 1234568 with exponent -2.
    value = v.encode_value(0x0001, v.KWH, Decimal("12345.678"), -2)
    assert value.sign_exponent == 0x42
    assert int.from_bytes(value.mantissa, "big") == 1234568
    assert value.value == Decimal("12345.68")
    assert len(value.mantissa) == 4
    # Floats are converted exactly, then rounded half-even at the resolution.
    assert v.encode_value(0x041E, v.VOLT, 230.25, -1).value == Decimal("230.2")
    assert v.encode_value(0x041E, v.VOLT, 230.35, -1).value == Decimal("230.3")  # 230.349...
    negative = v.encode_value(0x03FF, v.KW, -1.5, -3)
    assert negative.sign_exponent == 0xC3
    assert negative.value == Decimal("-1.500")


def test_encoder_grows_the_mantissa_and_refuses_the_impossible() -> None:
    assert len(v.encode_value(1, v.KWH, 2**40, 0).mantissa) == 6
    with pytest.raises(ProtocolError):
        v.encode_value(1, v.KWH, 2**70, 0)
    with pytest.raises(ProtocolError):
        v.encode_value(1, v.KWH, float("nan"), 0)
    with pytest.raises(ProtocolError):
        v.encode_value(1, v.KWH, 1, 64)
    with pytest.raises(ProtocolError):
        v.encode_value(0x10000, v.KWH, 1, 0)


@given(st.integers(0, 0xFFFF), st.integers(0, 255), st.booleans(), st.integers(-63, 63),
       st.integers(0, 2**64 - 1))
def test_values_round_trip(register: int, unit_code: int, negative: bool, exponent: int,
                           mantissa: int) -> None:
    value = v.encode_value(register, unit_code, Decimal(-mantissa if negative else mantissa)
                           .scaleb(exponent), exponent)
    assert int.from_bytes(value.mantissa, "big") == mantissa
    assert value.exponent == exponent or mantissa == 0
    decoded = v.decode_values(value.to_bytes() * 2)
    assert decoded == (value, value)


def test_decode_values_refuses_cut_values() -> None:
    whole = v.encode_value(1, v.KWH, 1, 0).to_bytes()
    assert v.decode_values(b"") == ()
    for cut in range(1, len(whole)):
        assert v.decode_values(whole[:cut]) is None


def test_units_convert_to_base_units() -> None:
    assert v.unit(v.KWH).base == "Wh"
    assert v.unit(v.KWH).factor == 1000
    assert v.unit(v.KVARH).base == "varh"
    assert v.unit(v.KVARH).factor == 1000
    assert v.unit(v.KW).base == "W"
    assert v.unit(21).factor == 1000
    assert v.unit(v.VOLT).base == "V"
    assert v.unit(35).factor == 1000
    assert v.unit(v.AMPERE).base == "A"
    assert v.unit(v.NO_UNIT).base == ""
    assert v.unit(8).name == "GJ"
    assert v.unit(8).base is None
    assert v.unit(200).name == "unit 200"
    assert v.unit(200).base is None
