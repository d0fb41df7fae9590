"""The decoder's fast paths give what the general code gives.

- A push of {logical name, value[, scaler_unit]} structures is paired element by element
  (cosem._structured) instead of by the token search; the search stays for any other body.
  The same body one level deeper defeats the element-by-element reading but leaves the
  token stream as it was, so the search's answer for it is the reference.
- COSEM objects are built by writing their slots (mapping._cosem_object): equal to the
  dataclass's own constructor, and still frozen.
- The commonest push is read straight from its bytes (structured.py): the same registers
  as the general path, on generated and damaged frames and on every DLMS profile.
- A-XDR values are named tuples: immutable and hashable like the dataclass they replaced.
- The per-code caches stay bounded whatever a line sends.
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meter_protocols.dlms import (
    DlmsDecoder,
    DlmsKeys,
    apdu,
    axdr,
    cosem,
    facts,
    security,
    structured,
)
from meter_protocols.dlms.axdr import Data, Tag
from meter_protocols.dlms.mapping import _cosem_object
from meter_protocols.obis import Obis
from meter_protocols.readings import CosemObject, FrameDecoded, MeterProtocol, ScalerSource
from meter_protocols.simulator.meter import VirtualMeter
from meter_protocols.simulator.profiles import PROFILES, get_profile
from meter_protocols.simulator.profiles_dlms import encoder_for


def _searched(body: Data) -> cosem.PushContent | None:
    """What the token search makes of `body` (one level deeper: not read element-wise)."""
    outer = axdr.structure(body)
    assert cosem._structured(outer) is None
    return cosem.extract(outer)


def _name(first: int, last: int = 0xFF) -> Data:
    return axdr.octets(bytes((first, 0, 1, 8, 0, last)))


_names = st.builds(_name, st.integers(0, 20), st.sampled_from([0xFF, 0xFF, 0x01]))
_values = st.one_of(
    st.builds(axdr.number, st.just(Tag.UINT32), st.integers(0, 2**32 - 1)),
    st.builds(axdr.number, st.just(Tag.INT16), st.integers(-(2**15), 2**15 - 1)),
    st.builds(axdr.number, st.just(Tag.FLOAT64), st.floats(allow_nan=False)),
    st.builds(axdr.visible, st.text("ABCZ019", max_size=8)),
    _names,  # a value that reads as a logical name: the search pairs it otherwise
    st.builds(lambda n: axdr.structure(axdr.number(Tag.UINT8, n)), st.integers(0, 255)),
)
_units = st.one_of(
    st.builds(axdr.scaler_unit, st.integers(-6, 6), st.integers(0, 255)),
    # a structure of two that is no scaler_unit
    st.builds(lambda a: axdr.structure(axdr.number(Tag.INT8, a), axdr.number(Tag.INT8, a)),
              st.integers(-6, 6)),
)
_elements = st.one_of(
    st.builds(axdr.structure, _names, _values),
    st.builds(axdr.structure, _names, _values, _units),
    st.builds(axdr.structure, _values),  # one part: not a named value
)
_bodies = st.builds(lambda container, items: container(*items),
                    st.sampled_from([axdr.array, axdr.structure]),
                    st.lists(_elements, min_size=1, max_size=6))


@given(_bodies)
def test_element_wise_pairing_is_the_search(body: Data) -> None:
    assert cosem.extract(body) == _searched(body)


def test_real_pushes_take_the_element_wise_path() -> None:
    """Every push of the benchmark's meter is read element-wise, to what the search says."""
    profile = get_profile("iskra-am550")
    assert profile.keys is not None
    keys = DlmsKeys.from_hex(profile.keys.encryption_key, profile.keys.authentication_key)
    raw_profile = dataclasses.replace(profile,
                                      encoder=lambda p: encoder_for(p, framing="raw"))
    meter = VirtualMeter(raw_profile, seed=3, start=1_735_700_000.0)
    decoder = DlmsDecoder(keys=keys, framing="raw")
    for _ in range(5):
        at = meter.next_push_at()
        assert at is not None
        frame = meter.push(at)
        assert [type(e) for e in decoder.feed(frame)] == [FrameDecoded]
        plain, verified = security.decrypt(security.parse_ciphered(frame), keys)
        assert verified
        body = apdu.parse_notification(plain).body
        assert cosem._structured(body) is not None
        content = cosem.extract(body)
        assert content is not None
        assert len(content.items) >= 16
        assert content == _searched(body)


@pytest.mark.parametrize("extra", [MappingProxyType({}), MappingProxyType({"status": 1})])
@pytest.mark.parametrize(("value", "unit", "scaler", "source"), [
    (2191456, 30, 0, ScalerSource.METER),
    (-12.5, None, -1, ScalerSource.DEFAULT),
    ("49534B", None, None, None),
    (None, None, None, None),
])
def test_objects_built_by_slots_equal_the_constructor(
        extra: MappingProxyType[str, object], value: object, unit: int | None,
        scaler: int | None, source: ScalerSource | None) -> None:
    data = Data(Tag.UINT32, 7, 4)
    fast = _cosem_object("1-0:1.8.0", 3, data, (value, unit, scaler, source), extra)  # type: ignore[arg-type]
    slow = CosemObject("1-0:1.8.0", 3, data.tag, data.size, value, unit, scaler,  # type: ignore[arg-type]
                       source, extra)
    assert fast == slow
    assert repr(fast) == repr(slow)
    for field in dataclasses.fields(CosemObject):
        assert getattr(fast, field.name) is getattr(slow, field.name)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.value = 1  # type: ignore[misc]


def test_axdr_values_stay_immutable_and_hashable() -> None:
    decoded = axdr.decode_all(bytes.fromhex("020209060100010800ff0600000118"))
    assert decoded == axdr.structure(axdr.octets(bytes.fromhex("0100010800ff")),
                                     axdr.number(Tag.UINT32, 280))
    assert hash(decoded) == hash(axdr.structure(axdr.octets(bytes.fromhex("0100010800ff")),
                                                axdr.number(Tag.UINT32, 280)))
    with pytest.raises(AttributeError):
        decoded.tag = 1  # type: ignore[misc]
    assert decoded.items[1].is_number
    assert decoded.is_container


def test_code_caches_are_bounded() -> None:
    for n in range(facts.BY_ID_MAX + 10):
        facts.facts(Obis(1, 0, n // 256, n % 256, 0))
        cosem._obis(bytes((1, 0, n // 256, n % 256, 0, 0xFF)))
    assert len(facts.BY_ID) <= facts.BY_ID_MAX
    assert len(cosem._OBIS_CACHE) <= cosem._OBIS_CACHE_MAX
    # and a cached code still says what a fresh one does
    code = Obis(1, 0, 1, 8, 0)
    assert facts.facts(code).short == "1.8.0"
    assert facts.facts(code).reduced == "1-0:1.8.0"
    assert facts.facts(code).counted
    assert not facts.facts(Obis(0, 0, 96, 1, 0)).counted


# -- the commonest push read from its bytes (structured.py) ------------------------------

_STAMP = bytes.fromhex("07e901010303351900ffc400")


def _general(apdu_bytes: bytes) -> tuple[bytes, list[cosem.PushedItem]] | None:
    """What the general path pairs element-wise in this APDU (None: it would not)."""
    try:
        notification = apdu.parse_notification(apdu_bytes)
    except axdr.AxdrError:
        return None
    items = cosem._structured(notification.body)
    return (notification.date_time, items) if items else None


@given(_bodies, st.binary(max_size=3))
def test_bytes_reader_is_the_general_path(body: Data, tail: bytes) -> None:
    """On generated bodies (some not of the shape, some with bytes after them) the reader
    gives exactly the general path's registers, or None where that path would not read
    the body element-wise (the generated encodings are canonical: one-byte lengths)."""
    frame = apdu.build_notification(7, _STAMP, body) + tail
    assert structured.read(frame) == _general(frame)


@given(st.data())
def test_bytes_reader_on_damaged_pushes(data: st.DataObject) -> None:
    """A real push cut short, with a byte changed or bytes added: never an exception, and
    never a reading the general path would not give."""
    frame = _plain_push(seed=data.draw(st.integers(0, 3)))
    at = data.draw(st.integers(0, len(frame) - 1))
    damaged = data.draw(st.sampled_from([
        frame[:at],
        frame[:at] + bytes((data.draw(st.integers(0, 255)),)) + frame[at + 1:],
        frame + data.draw(st.binary(min_size=1, max_size=4)),
    ]))
    found = structured.read(damaged)
    if found is not None:
        assert found == _general(damaged)


def _plain_push(seed: int) -> bytes:
    profile = get_profile("iskra-am550")
    assert profile.keys is not None
    keys = DlmsKeys.from_hex(profile.keys.encryption_key, profile.keys.authentication_key)
    raw_profile = dataclasses.replace(profile,
                                      encoder=lambda p: encoder_for(p, framing="raw"))
    meter = VirtualMeter(raw_profile, seed=seed, start=1_735_700_000.0)
    at = meter.next_push_at()
    assert at is not None
    plain, _ = security.decrypt(security.parse_ciphered(meter.push(at)), keys)
    return plain


def test_bytes_reader_takes_the_benchmark_push() -> None:
    frame = _plain_push(seed=5)
    found = structured.read(frame)
    assert found is not None
    assert len(found[1]) == 19
    assert found == _general(frame)


@pytest.mark.parametrize("name", sorted(
    n for n, p in PROFILES.items() if p.protocol is MeterProtocol.DLMS))
def test_every_dlms_profile_decodes_the_same_without_the_fast_reader(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the layout (the fast reader's or another), the decoder's events are the
    ones the general path gives; a push of another shape is still found."""
    profile = PROFILES[name]
    keys = DlmsKeys.from_hex(profile.keys.encryption_key, profile.keys.authentication_key) \
        if profile.keys else None

    def decode(fast: bool) -> list[object]:
        with monkeypatch.context() as patch:
            if not fast:
                patch.setattr(structured, "read", lambda _apdu: None)
            meter = VirtualMeter(profile, seed=11, start=1_735_700_000.0)
            decoder = DlmsDecoder(keys=keys)
            events: list[object] = []
            for _ in range(6):
                at = meter.next_push_at()
                assert at is not None
                events += decoder.feed(meter.push(at))
            return events

    with_reader, without = decode(fast=True), decode(fast=False)
    assert with_reader == without
    assert any(isinstance(e, FrameDecoded) for e in with_reader)
