"""The decoder's shortcuts give what the long way gives: timestamps read field by field as
strptime read them, and line heads remembered per decoder (bounded) name the same codes."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from meter_protocols.dsmr.decoder import CODES_KEPT, TEXTS_KEPT, DsmrDecoder, parse_timestamp
from meter_protocols.dsmr.encoder import telegram
from meter_protocols.readings import FrameDecoded

ZONE = ZoneInfo("Europe/Zurich")


@given(st.datetimes(min_value=datetime(1969, 1, 1), max_value=datetime(2068, 12, 31)),
       st.sampled_from(["", "S", "W"]))
def test_a_timestamp_reads_as_strptime_read_it(moment: datetime, season: str) -> None:
    text = moment.strftime("%y%m%d%H%M%S") + season
    expected = datetime.strptime(text[:12], "%y%m%d%H%M%S").replace(
        tzinfo=ZONE, fold=1 if season == "W" else 0)
    got = parse_timestamp(text, ZONE)
    assert got == expected
    assert got is not None and got.fold == expected.fold


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_any_twelve_digits_read_as_strptime_read_them(text: str) -> None:
    try:
        parsed: datetime | None = datetime.strptime(text, "%y%m%d%H%M%S")
    except ValueError:
        parsed = None
    got = parse_timestamp(text, ZONE)
    if parsed is not None and parsed.strftime("%y%m%d%H%M%S") == text:
        assert got == parsed.replace(tzinfo=ZONE)
    else:
        # Not a time, or one strptime only found by taking a one-digit field ("1" as the
        # month of "241301..."): a DSMR timestamp has two digits in every field.
        assert got is None


def test_non_ascii_digits_are_no_timestamp() -> None:
    assert parse_timestamp("２４０１０１１２００００S", ZONE) is None


def test_line_heads_are_remembered_within_a_bound_and_read_the_same() -> None:
    decoder = DsmrDecoder()
    base = datetime(2025, 1, 1, 12, 0, 0)
    readings = []
    for n in range(3 * CODES_KEPT // 10):
        stamp = (base + timedelta(seconds=n)).strftime("%y%m%d%H%M%S") + "W"
        junk = [f"1-0:{96 + k}.{n}.{k}(x{n})" for k in range(10)]  # 10 new heads a telegram
        message = f"note {n}".encode().hex().upper()  # a text line, new every telegram
        lines = [f"0-0:1.0.0({stamp})", "1-0:1.8.1(000012.345*kWh)", *junk,
                 "1-0:1.7.0(00.500*kW)", f"0-0:96.13.0({message})"]
        (frame,) = [e for e in decoder.feed(telegram("/ESR5 test", lines))
                    if isinstance(e, FrameDecoded)]
        readings.append(frame.reading)
    assert len(decoder._codes) <= CODES_KEPT
    assert len(decoder._texts) <= TEXTS_KEPT
    for reading in (readings[0], readings[-1]):
        assert reading.values == {"1.8.1": 12345.0, "1.7.0": 500.0}
        assert [line.obis for line in reading.lines][:2] == ["0-0:1.0.0", "1-0:1.8.1"]
        assert len(reading.lines) == 14
    assert readings[0].texts["96.13.0"] == "note 0"
    assert readings[-1].texts["96.13.0"] == f"note {len(readings) - 1}"
    assert readings[-1].meter_time == (base + timedelta(seconds=len(readings) - 1)).replace(
        tzinfo=ZONE, fold=1)


def test_lines_kept_from_the_last_telegram_decode_as_a_fresh_decoder_does() -> None:
    """Unchanged lines are taken from the previous telegram; a line whose continuation
    changed (DSMR 2.2 gas: the value is on the next line) or whose dialect changed is not."""
    shared = DsmrDecoder()
    variants = []
    for n in range(12):
        gas = f"(0000{n % 3}.123)"
        lines = ["1-3:0.2.8(50)" if n % 4 else "1-3:0.2.8(42)",
                 f"1-0:1.8.1(00001{n % 2}.345*kWh)", "1-0:1.7.0(00.500*kW)",
                 "0-1:24.3.0(121208140000)(00)(60)(1)(0-1:24.2.1)(m3)", gas,
                 "0-0:96.1.1(4B384547303034303436333935353037)"]
        variants.append(telegram("/ESR5 test", lines))
    for raw in variants + variants[::-1]:
        got = [e for e in shared.feed(raw) if isinstance(e, FrameDecoded)]
        fresh = [e for e in DsmrDecoder().feed(raw) if isinstance(e, FrameDecoded)]
        assert len(got) == len(fresh) == 1
        assert got[0].reading == fresh[0].reading
