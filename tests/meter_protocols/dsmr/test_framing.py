"""Bad input never crashes or stalls the decoder, and its memory stays bounded."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from meter_protocols.dsmr.decoder import DsmrDecoder
from meter_protocols.dsmr.encoder import telegram
from meter_protocols.dsmr.framing import MAX_TELEGRAM
from meter_protocols.readings import FrameDecoded, Problem, ProblemKind

GOOD = telegram("/ESR51030712084367", ["1-3:0.2.8(50)", "1-0:1.8.1(000012.345*kWh)",
                                       "1-0:1.7.0(00.500*kW)"])


def frames(events: list[object]) -> list[FrameDecoded]:
    return [e for e in events if isinstance(e, FrameDecoded)]


def kinds(events: list[object]) -> list[ProblemKind]:
    return [e.kind for e in events if isinstance(e, Problem)]


def test_a_good_telegram_decodes_to_base_units() -> None:
    (frame,) = frames(DsmrDecoder().feed(GOOD))
    assert frame.reading.values == {"1.8.1": 12345.0, "1.7.0": 500.0}
    assert frame.size == len(GOOD)


def test_byte_by_byte_gives_the_same_as_one_piece() -> None:
    decoder = DsmrDecoder()
    events = [e for b in GOOD * 3 for e in decoder.feed(bytes([b]))]
    assert [f.reading.values for f in frames(events)] == [{"1.8.1": 12345.0, "1.7.0": 500.0}] * 3


def test_truncated_telegram_is_reported_and_the_next_one_decodes() -> None:
    decoder = DsmrDecoder()
    events = decoder.feed(GOOD[: len(GOOD) // 2] + GOOD)
    assert kinds(events) == [ProblemKind.TRUNCATED]
    assert len(frames(events)) == 1


def test_garbage_between_telegrams_is_reported_once_per_run() -> None:
    decoder = DsmrDecoder()
    events = decoder.feed(b"\x00\xffnoise\x13\x37" + GOOD + b"\r\n\r\n" + GOOD)
    assert kinds(events) == [ProblemKind.UNKNOWN_FORMAT]
    assert len(frames(events)) == 2


def test_a_64k_line_without_end_is_dropped_and_memory_stays_bounded() -> None:
    decoder = DsmrDecoder()
    events = []
    line = b"/" + b"1-0:1.8.1(000012.345*kWh)" * 3000  # ~75 kB, no '!'
    for i in range(0, len(line), 1024):
        events += decoder.feed(line[i:i + 1024])
        assert decoder.buffered <= MAX_TELEGRAM + 1024
    assert ProblemKind.OVERSIZE in kinds(events)
    assert len(frames(decoder.feed(GOOD))) == 1


def test_text_after_the_bang_that_is_no_crc_is_malformed() -> None:
    events = DsmrDecoder().feed(b"/X\r\n\r\n1-0:1.8.1(1*kWh)\r\n!this is not a crc\r\n" + GOOD)
    assert ProblemKind.MALFORMED in kinds(events)
    assert len(frames(events)) == 1


def test_crc_field_that_is_not_hex_is_malformed() -> None:
    events = DsmrDecoder().feed(GOOD.replace(GOOD[-6:-2], b"ZZZZ"))
    assert kinds(events) == [ProblemKind.MALFORMED]


def test_telegram_without_data_lines_is_malformed() -> None:
    events = DsmrDecoder().feed(telegram("/ABC5 nothing", []))
    assert kinds(events) == [ProblemKind.MALFORMED]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096), st.integers(min_value=1, max_value=512))
def test_random_bytes_never_raise_and_a_good_telegram_still_decodes(noise: bytes,
                                                                   chunk: int) -> None:
    decoder = DsmrDecoder()
    stream = noise + b"\r\n" + GOOD
    events = []
    for i in range(0, len(stream), chunk):
        events += decoder.feed(stream[i:i + chunk])
        assert decoder.buffered <= MAX_TELEGRAM + chunk
    # The good telegram survives whatever came before it, unless the noise left an open
    # "/" that swallowed its start (then it is reported as truncated, never misread).
    decoded = frames(events)
    assert decoded[-1].reading.values["1.8.1"] == 12345.0 if decoded else \
        ProblemKind.TRUNCATED in kinds(events) or ProblemKind.OVERSIZE in kinds(events)


def test_mutated_telegrams_never_decode_to_wrong_values() -> None:
    rng = random.Random(7)
    decoder = DsmrDecoder()
    for _ in range(500):
        data = bytearray(GOOD)
        pos = rng.randrange(1, len(data) - 8)
        data[pos] = rng.choice(b"0123456789.")
        for event in decoder.feed(bytes(data)):
            if isinstance(event, FrameDecoded):
                # Only a mutation that changed nothing can decode: the CRC guards the rest.
                assert bytes(data) == GOOD
