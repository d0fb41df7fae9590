"""Scalers: precedence, the predefined sets, plausibility, scalers-current, validation."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from meter_protocols.dlms import (
    DlmsDecoder,
    ScalerConfig,
    ScalerConfigError,
    ScalersSet,
    axdr,
    custom_scalers_error,
    parse_custom_scalers,
    scalers_current,
)
from meter_protocols.dlms.axdr import Tag
from meter_protocols.dlms.encoder import (
    BodyStyle,
    FrameOptions,
    PushFrameEncoder,
    PushItem,
    PushLayout,
    build_body,
)
from meter_protocols.dlms.link import Framing
from meter_protocols.dlms.scalers import ScalerResolver
from meter_protocols.obis import Obis
from meter_protocols.readings import MeterIdentity, ScalerSource
from tests.meter_protocols.dlms.helpers import readings

ZONE = ZoneInfo("Europe/Zurich")
WHEN = datetime(2025, 3, 1, 12, 0, tzinfo=ZONE)


def _raw_push(raw: dict[str, tuple[int, int | float]], *, scaler_unit: bool = False) -> bytes:
    """A push of raw register values {C.D.E: (tag, raw)}, named, no scalers unless asked."""
    items = tuple(PushItem(Obis.parse(f"1-0:{code}"), 3, tag, code, 0, 27)
                  for code, (tag, _) in raw.items())
    layout = PushLayout(BodyStyle.OBIS_STRUCTURES, items, send_scaler_unit=scaler_unit)
    body = build_body(layout, {c: float(v) for c, (_, v) in raw.items()}, MeterIdentity(),
                      WHEN, 1)
    return PushFrameEncoder(FrameOptions(Framing.HDLC)).encode(body, WHEN)


# What an E570 sends: energy in kWh as float, power in 0.1 W, current in 0.1 A.
E570_RAW = {"1.8.0": (Tag.FLOAT32, 47.25), "2.8.0": (Tag.FLOAT32, 8.965),
            "1.7.0": (Tag.UINT32, 12345), "31.7.0": (Tag.UINT16, 57),
            "32.7.0": (Tag.UINT16, 231)}


def test_lge570_set_scales_a_meter_without_scalers() -> None:
    decoder = DlmsDecoder(scalers=ScalerConfig(ScalersSet.LGE570))
    [reading] = readings(decoder.feed(_raw_push(E570_RAW)))
    assert reading.values["1.8.0"] == pytest.approx(47250.0)  # 47.25 kWh in Wh
    assert reading.values["2.8.0"] == pytest.approx(8965.0, abs=0.01)
    assert reading.values["1.7.0"] == pytest.approx(1234.5)
    assert reading.values["31.7.0"] == pytest.approx(5.7)
    assert reading.values["32.7.0"] == pytest.approx(231.0)
    assert scalers_current(reading) == [
        {"obis": "1.8.0", "scaler": 3}, {"obis": "2.8.0", "scaler": 3},
        {"obis": "1.7.0", "scaler": -1}, {"obis": "31.7.0", "scaler": -1},
        {"obis": "32.7.0", "scaler": 0},
    ]
    assert {o.scaler_source for o in reading.objects} == {ScalerSource.LGE570}


def test_custom_set_with_wildcard_scales_the_same_meter() -> None:
    custom = parse_custom_scalers([
        {"obis": "1.8.255", "scaler": 3}, {"obis": "2.8.0", "scaler": 3},
        {"obis": "1.7.0", "scaler": -1}, {"obis": "31.7.0", "scaler": -1},
    ])
    decoder = DlmsDecoder(scalers=ScalerConfig(ScalersSet.CUSTOM, custom))
    [reading] = readings(decoder.feed(_raw_push(E570_RAW)))
    assert reading.values["1.8.0"] == pytest.approx(47250.0)
    assert reading.values["1.7.0"] == pytest.approx(1234.5)
    assert reading.values["31.7.0"] == pytest.approx(5.7)
    sources = {o.logical_name: o.scaler_source for o in reading.objects}
    assert sources["1-0:1.8.0"] is ScalerSource.CUSTOM
    assert sources["1-0:32.7.0"] is ScalerSource.DEFAULT  # not in the list: automatic


def test_default_set_is_wrong_for_an_e570_as_on_the_device() -> None:
    [reading] = readings(DlmsDecoder().feed(_raw_push(E570_RAW)))
    assert reading.values["1.8.0"] == pytest.approx(47.25)  # Wh: needs lge570
    assert reading.values["31.7.0"] == pytest.approx(0.57)  # default table: -2


def test_scalers_change_on_a_running_decoder() -> None:
    decoder = DlmsDecoder()
    frame = _raw_push(E570_RAW)
    assert readings(decoder.feed(frame))[0].values["1.8.0"] == pytest.approx(47.25)
    decoder.set_scalers(ScalerConfig(ScalersSet.LGE570))
    assert readings(decoder.feed(frame))[0].values["1.8.0"] == pytest.approx(47250.0)


def test_meter_scaler_beats_lge570_but_not_custom() -> None:
    frame = _raw_push({"1.7.0": (Tag.UINT32, 500)}, scaler_unit=True)  # meter says 10^0
    lge = DlmsDecoder(scalers=ScalerConfig(ScalersSet.LGE570))
    [reading] = readings(lge.feed(frame))
    assert reading.values["1.7.0"] == 500.0
    assert reading.objects[0].scaler_source is ScalerSource.METER
    custom = DlmsDecoder(scalers=ScalerConfig(
        ScalersSet.CUSTOM, parse_custom_scalers([{"obis": "1.7.0", "scaler": 1}])))
    [reading] = readings(custom.feed(frame))
    assert reading.values["1.7.0"] == 5000.0
    assert reading.objects[0].scaler_source is ScalerSource.CUSTOM


def test_custom_entries_apply_only_when_the_set_is_custom() -> None:
    entries = parse_custom_scalers([{"obis": "1.7.0", "scaler": 3}])
    decoder = DlmsDecoder(scalers=ScalerConfig(ScalersSet.DEFAULT, entries))
    [reading] = readings(decoder.feed(_raw_push({"1.7.0": (Tag.UINT32, 5)})))
    assert reading.values["1.7.0"] == 5.0


@pytest.mark.parametrize(
    ("code", "raw", "expected", "source"),
    [
        ("32.7.0", 2345, 234.5, ScalerSource.PLAUSIBILITY),
        ("32.7.0", 23456, 234.56, ScalerSource.PLAUSIBILITY),
        ("32.7.0", 231, 231.0, ScalerSource.DEFAULT),
        ("14.7.0", 5002, 50.02, ScalerSource.PLAUSIBILITY),
        ("13.7.0", 930, 0.93, ScalerSource.PLAUSIBILITY),
        ("1.7.0", 2345, 2345.0, ScalerSource.DEFAULT),  # power has no narrow range
    ],
)
def test_default_plausibility(code: str, raw: int, expected: float,
                              source: ScalerSource) -> None:
    [reading] = readings(DlmsDecoder().feed(_raw_push({code: (Tag.UINT32, raw)})))
    assert reading.values[code] == pytest.approx(expected)
    assert reading.objects[0].scaler_source is source


def test_plausibility_decision_is_kept_until_reset() -> None:
    resolver = ScalerResolver()
    assert resolver.resolve("32.7.0", 2345) == (-1, ScalerSource.PLAUSIBILITY)
    # a later, lower voltage keeps the scaler found at detection
    assert resolver.resolve("32.7.0", 400) == (-1, ScalerSource.PLAUSIBILITY)
    resolver.reset()
    assert resolver.resolve("32.7.0", 400) == (0, ScalerSource.DEFAULT)


def test_scalers_current_lists_only_recognised_class_3() -> None:
    items = (
        PushItem(Obis.parse("0-0:96.1.0"), 1, Tag.OCTET_STRING, "@meter_id"),
        PushItem(Obis.parse("1-0:1.8.0"), 3, Tag.UINT32, "1.8.0", 0, 30),
        PushItem(Obis.parse("1-0:99.9.9"), 3, Tag.UINT32, "99.9.9", 0, 30),
        PushItem(Obis.parse("1-0:31.7.0"), 3, Tag.UINT16, "31.7.0", -2, 33),
    )
    body = build_body(PushLayout(BodyStyle.FLAT, items, send_scaler_unit=True),
                      {"1.8.0": 10.0, "31.7.0": 1.5}, MeterIdentity(meter_id="X"), WHEN, 1)
    frame = PushFrameEncoder(FrameOptions(Framing.RAW)).encode(body, WHEN)
    [reading] = readings(DlmsDecoder(framing="raw").feed(frame))
    assert scalers_current(reading) == [{"obis": "1.8.0", "scaler": 0},
                                        {"obis": "31.7.0", "scaler": -2}]
    assert scalers_current(None) == []


VALID: list[Any] = [
    [],
    [{"obis": "1.8.0", "scaler": 3}],
    [{"obis": "1.8.255", "scaler": -6}, {"obis": "254.254.255", "scaler": 6}],
    [{"obis": "0.0.0", "scaler": 0, "comment": "extra fields are ignored"}],
]
INVALID: list[tuple[Any, str]] = [
    ({"obis": "1.8.0", "scaler": 3}, "array"),
    ("1.8.0", "array"),
    ([["1.8.0", 3]], "object"),
    ([{"scaler": 3}], "obis"),
    ([{"obis": "1.8", "scaler": 3}], "C.D.E"),
    ([{"obis": "1-0:1.8.0", "scaler": 3}], "C.D.E"),
    ([{"obis": "255.8.0", "scaler": 3}], "out of range"),
    ([{"obis": "1.255.0", "scaler": 3}], "out of range"),
    ([{"obis": "1.8.256", "scaler": 3}], "out of range"),
    ([{"obis": "1.8.0"}], "integer"),
    ([{"obis": "1.8.0", "scaler": 7}], "out of range"),
    ([{"obis": "1.8.0", "scaler": -7}], "out of range"),
    ([{"obis": "1.8.0", "scaler": 1.5}], "integer"),
    ([{"obis": "1.8.0", "scaler": "3"}], "integer"),
    ([{"obis": "1.8.0", "scaler": True}], "integer"),
    ([{"obis": "1.8.0", "scaler": 1}, {"obis": "1.8.0", "scaler": 2}], "twice"),
    ([{"obis": f"1.8.{e}", "scaler": 0} for e in range(65)], "at most"),
]


@pytest.mark.parametrize("data", VALID)
def test_valid_custom_lists(data: Any) -> None:
    assert custom_scalers_error(data) is None
    assert [e.as_json()["obis"] for e in parse_custom_scalers(data)] == \
        [d["obis"] for d in data]


@pytest.mark.parametrize(("data", "message"), INVALID)
def test_invalid_custom_lists(data: Any, message: str) -> None:
    error = custom_scalers_error(data)
    assert error is not None
    assert message in error
    with pytest.raises(ScalerConfigError):
        parse_custom_scalers(data)


def test_unit_code_shown_for_registers_without_scaler_unit() -> None:
    [reading] = readings(DlmsDecoder().feed(_raw_push({"1.8.0": (Tag.UINT32, 5)})))
    obj = reading.objects[0]
    assert (obj.class_id, obj.unit, obj.scaler, obj.value) == (3, 30, 0, 5)
    assert axdr.Tag(obj.tag) is Tag.UINT32


def _e570_long64(currents: int, powers: int = 7849, *, with_voltage: bool = False,
                 reactive: int = 600) -> bytes:
    """A load frame shaped like a Landis+Gyr E570 64-bit push (long64 powers and
    currents, long64-unsigned energies, no scaler_unit, no voltages unless asked)."""
    raw: dict[str, tuple[int, int | float]] = {
        "1.7.0": (Tag.INT64, powers), "2.7.0": (Tag.INT64, 0), "3.7.0": (Tag.INT64, reactive),
        "4.7.0": (Tag.INT64, 0), "1.8.0": (Tag.UINT64, 862055),
        "31.7.0": (Tag.INT64, currents), "51.7.0": (Tag.INT64, currents),
        "71.7.0": (Tag.INT64, currents)}
    if with_voltage:
        raw |= {"32.7.0": (Tag.INT64, 231), "52.7.0": (Tag.INT64, 229),
                "72.7.0": (Tag.INT64, 232)}
    return _raw_push(raw)


@pytest.mark.parametrize(("raw", "voltage", "amps", "source"), [
    (11, False, 11.0, ScalerSource.PLAUSIBILITY),  # sent in A: 100x low under -2
    (113700, False, 11.37, ScalerSource.PLAUSIBILITY),  # sent in 0.1 mA: 100x high
    (11, True, 11.0, ScalerSource.PLAUSIBILITY),  # with the frame's own voltages
    (1137, True, 11.37, ScalerSource.DEFAULT),  # 0.01 A: agrees, left alone
])
def test_e570_long64_currents_are_checked_against_the_frames_power(
        raw: int, voltage: bool, amps: float, source: ScalerSource) -> None:
    """Three phases of ~11.4 A at ~230 V carry the frame's 7.9 kVA."""
    decoder = DlmsDecoder()
    [reading] = readings(decoder.feed(_e570_long64(raw, with_voltage=voltage)))
    assert reading.values["31.7.0"] == pytest.approx(amps)
    current = next(o for o in reading.objects if o.logical_name == "1-0:31.7.0")
    assert current.scaler_source is source
    assert reading.values["1.7.0"] == 7849.0  # the power itself is never touched
    # decided once: the next frame, even without load, keeps the corrected scaler
    [idle] = readings(decoder.feed(_e570_long64(raw, powers=0)))
    assert idle.values["31.7.0"] == pytest.approx(amps)


def test_current_check_needs_load_and_leaves_meter_scalers_alone() -> None:
    decoder = DlmsDecoder()
    [idle] = readings(decoder.feed(_e570_long64(11, powers=0, reactive=0)))
    assert idle.values["31.7.0"] == pytest.approx(0.11)  # no load: nothing to tell by
    [loaded] = readings(decoder.feed(_e570_long64(11)))
    assert loaded.values["31.7.0"] == pytest.approx(11.0)  # decided at the first load
    sent = _raw_push({"1.7.0": (Tag.INT64, 7849), "31.7.0": (Tag.INT64, 11)},
                     scaler_unit=True)
    [own] = readings(DlmsDecoder().feed(sent))
    assert own.values["31.7.0"] == 11.0  # the meter's own scaler (0) stands
