"""The UART line model: exact round trips at equal settings, the garbage real UARTs make at
wrong ones, chunking invariance, and the wire faults."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meter_protocols.line import LineSettings, Parity
from meter_protocols.uart import (
    TICK_HZ,
    ErrorFlag,
    Faults,
    Levels,
    NoiseBurst,
    Received,
    Receiver,
    Transmitter,
    UartError,
    VirtualWire,
    compatible,
    to_ticks,
)

P1_TEXT = b"/ESR5\\253ESR51030712084367\r\n\r\n1-0:1.8.1(000044.258*kWh)\r\n!3F8B\r\n"
LINES = st.builds(
    LineSettings,
    baudrate=st.sampled_from([300, 1200, 2400, 4800, 9600, 19200, 57600, 115200, 14400, 250000]),
    data_bits=st.sampled_from([7, 8]),
    parity=st.sampled_from(list(Parity)),
    stop_bits=st.sampled_from([1.0, 1.5, 2.0]),
    inverted=st.booleans(),
)


def wire_bytes(tx: str | LineSettings, rx: str | LineSettings, data: bytes,
               **kwargs: bool) -> Received:
    tx_line = tx if isinstance(tx, LineSettings) else LineSettings.parse(tx)
    rx_line = rx if isinstance(rx, LineSettings) else LineSettings.parse(rx)
    wire = VirtualWire(tx_line, rx_line, **kwargs)
    wire.send(data, 0.001)
    return wire.read(0.002 + 12 * len(data) / tx_line.baudrate + 0.01)


def mask(data: bytes, line: LineSettings) -> bytes:
    return bytes(b & ((1 << line.data_bits) - 1) for b in data)


# --- equal settings ------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(line=LINES, data=st.binary(max_size=200), fast=st.booleans())
def test_equal_settings_round_trip_exactly(line: LineSettings, data: bytes, fast: bool) -> None:
    received = wire_bytes(line, line, data, fast_path=fast)
    assert received.data == mask(data, line)
    assert received.errors == 0
    assert received.flags == bytes(len(data))


@settings(max_examples=60, deadline=None)
@given(line=LINES, data=st.binary(min_size=1, max_size=120),
       gaps=st.lists(st.floats(0, 0.01), min_size=1, max_size=5))
def test_slow_path_equals_fast_path_with_gaps(line: LineSettings, data: bytes,
                                              gaps: list[float]) -> None:
    """Bytes sent in several bursts with idle gaps: sampling gives the same as the shortcut."""
    results = []
    for fast in (True, False):
        wire = VirtualWire(line, line, fast_path=fast)
        t = 0.0
        pieces = [data[i::len(gaps)] for i in range(len(gaps))]
        for gap, piece in zip(gaps, pieces, strict=True):
            t = max(t, wire.send(piece, t + gap))
        results.append(wire.read(t + 0.01))
    assert results[0] == results[1]
    assert results[0].data == mask(b"".join(data[i::len(gaps)] for i in range(len(gaps))),
                                   line)


def test_stop_bits_of_the_sender_do_not_matter_to_a_one_stop_bit_reader() -> None:
    received = wire_bytes("9600 8N2", "9600 8N1", bytes(range(256)))
    assert received.data == bytes(range(256))
    assert received.errors == 0


# --- chunking ------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(tx=LINES, rx=LINES, data=st.binary(min_size=1, max_size=80),
       step=st.floats(min_value=0.0001, max_value=0.02))
def test_reading_in_chunks_gives_what_one_read_gives(tx: LineSettings, rx: LineSettings,
                                                     data: bytes, step: float) -> None:
    end = 0.002 + 13 * len(data) / min(tx.baudrate, rx.baudrate) + 0.05
    whole = VirtualWire(tx, rx)
    whole.send(data, 0.001)
    one = whole.read(end)
    chunked = VirtualWire(tx, rx)
    chunked.send(data, 0.001)
    parts = Received()
    t = 0.0
    while t < end:
        t = min(end, t + step)
        parts = parts + chunked.read(t)
    assert parts == one


def test_receiver_state_carries_over_hand_cut_pieces() -> None:
    line = LineSettings.parse("2400 8E1")
    piece = Transmitter(line).send(b"\x7e\xa0\x1b", at=0.0)
    at = piece.start + (piece.end - piece.start) // 3  # in the middle of a character
    first, second = Levels(piece.start, at, piece.level0,
                           tuple(e for e in piece.edges if e < at)), \
        Levels(at, piece.end, piece.level0 ^ bool(sum(e < at for e in piece.edges) & 1),
               tuple(e for e in piece.edges if e >= at))
    rx = Receiver(line)
    assert (rx.feed(first) + rx.feed(second)).data == b"\x7e\xa0\x1b"


def test_a_piece_going_back_in_time_is_refused() -> None:
    rx = Receiver(LineSettings())
    rx.feed(Levels(100, 200, True))
    with pytest.raises(UartError):
        rx.feed(Levels(150, 300, True))


# --- the garbage of wrong settings -------------------------------------------------------------


def test_7e1_read_as_8n1_has_the_parity_in_the_top_bit() -> None:
    received = wire_bytes("9600 7E1", "9600 8N1", P1_TEXT)
    assert received.errors == 0
    assert bytes(b & 0x7F for b in received.data) == P1_TEXT
    assert all((b >> 7) == (b & 0x7F).bit_count() % 2 for b in received.data)
    assert received.data != P1_TEXT  # some characters really have the top bit set


def test_8e1_read_as_8n1_has_framing_errors_exactly_on_even_weight_bytes() -> None:
    data = bytes(range(256))
    received = wire_bytes("2400 8E1", "2400 8N1", data)
    assert received.data == data
    for byte, flag in zip(received.data, received.flags, strict=True):
        assert bool(flag & ErrorFlag.FRAMING) == (byte.bit_count() % 2 == 0)
    assert received.parity_errors == 0


def test_8n2_read_as_8e1_has_parity_errors_on_even_weight_bytes() -> None:
    data = bytes(range(256))
    received = wire_bytes("9600 8N2", "9600 8E1", data)
    assert received.data == data
    assert received.framing_errors == 0
    for byte, flag in zip(received.data, received.flags, strict=True):
        assert bool(flag & ErrorFlag.PARITY) == (byte.bit_count() % 2 == 0)


def test_a_much_slower_meter_reads_as_breaks() -> None:
    received = wire_bytes("9600 7E1", "115200 8N1", P1_TEXT)
    assert len(received.data) > 2 * len(P1_TEXT)  # one break per low stretch
    assert set(received.data) == {0}
    assert received.breaks == received.framing_errors == len(received.data)


def test_a_4x_slower_meter_reads_as_long_low_runs() -> None:
    received = wire_bytes("2400 8N1", "9600 8N1", bytes(range(0, 256, 3)))
    runs = sorted((b & -b).bit_length() for b in received.data if b)
    assert runs[len(runs) // 10] == 4  # a bit of the meter is four bits of the reader
    assert received.framing_errors > len(received.data) // 3


def test_a_faster_meter_gives_few_bytes_of_garbage() -> None:
    data = P1_TEXT * 4
    received = wire_bytes("115200 8N1", "9600 8N1", data)
    assert 0 < len(received.data) < len(data) // 5
    assert received.framing_errors > 0


def test_an_inverted_line_gives_garbage_and_a_break_when_it_rests() -> None:
    received = wire_bytes("115200 8N1 inverted", "115200 8N1", P1_TEXT)
    assert received.data != P1_TEXT
    assert received.flags[-1] & ErrorFlag.BREAK  # the line falls to rest: a break
    assert received.framing_errors > 0
    # Read with rx inversion, it is exact again.
    assert wire_bytes("115200 8N1 inverted", "115200 8N1 inverted", P1_TEXT).data == P1_TEXT


def test_wrong_parity_sense_gives_parity_errors_on_every_byte() -> None:
    data = bytes(range(1, 200))
    received = wire_bytes("2400 8O1", "2400 8E1", data)
    assert received.data == data
    assert received.parity_errors == len(data)
    assert received.framing_errors == 0


def test_a_glitch_shorter_than_half_a_bit_is_not_a_start_bit() -> None:
    line = LineSettings.parse("9600 8N1")
    rx = Receiver(line)
    bit = TICK_HZ // 9600
    spike = Levels(0, 20 * bit, True, (5 * bit, 5 * bit + bit // 4))
    assert rx.feed(spike) == Received()


def test_compatible_ignores_stop_bits_only() -> None:
    assert compatible(LineSettings.parse("9600 8N2"), LineSettings.parse("9600 8N1"))
    assert not compatible(LineSettings.parse("9600 8N1"), LineSettings.parse("9600 8E1"))
    assert not compatible(LineSettings.parse("9600 8N1"),
                          LineSettings.parse("9600 8N1 inverted"))


# --- faults and speed changes -----------------------------------------------------------------


def test_dropped_and_flipped_bytes() -> None:
    data = bytes(range(256)) * 4
    dropped = VirtualWire(LineSettings(), LineSettings(), faults=Faults(drop_rate=0.1), seed=3)
    dropped.send(data, 0.0)
    out = dropped.read(1.0).data
    assert 0.8 * len(data) < len(out) < 0.97 * len(data)
    flipped = VirtualWire(LineSettings(), LineSettings(), faults=Faults(flip_rate=0.1), seed=3)
    flipped.send(data, 0.0)
    got = flipped.read(1.0)
    assert len(got.data) == len(data)
    changed = [a ^ b for a, b in zip(got.data, data, strict=True) if a != b]
    assert 0.05 * len(data) < len(changed) < 0.15 * len(data)
    assert all(c.bit_count() == 1 for c in changed)


def test_silence_window_drops_what_the_meter_sends() -> None:
    wire = VirtualWire(LineSettings(), LineSettings(), faults=Faults(silences=((1.0, 2.0),)))
    wire.send(b"before", 0.5)
    wire.send(b"during", 1.5)
    wire.send(b"after", 2.5)
    assert wire.read(3.0).data == b"beforeafter"


def test_noise_burst_garbles_only_its_window_and_is_deterministic() -> None:
    faults = Faults(noise=(NoiseBurst(1.0, 0.5, rate=3000),))
    outs = []
    for step in (0.5, 0.013):
        wire = VirtualWire(LineSettings(), LineSettings(), faults=faults, seed=7)
        wire.send(P1_TEXT, 0.2)
        wire.send(P1_TEXT, 2.0)
        got = Received()
        t = 0.0
        while t < 3.0:
            t += step
            got = got + wire.read(t)
        outs.append(got)
    assert outs[0] == outs[1]
    data = outs[0].data
    assert data.startswith(P1_TEXT)
    assert data.endswith(P1_TEXT)
    assert len(data) > 2 * len(P1_TEXT)  # the noise made characters of its own
    assert outs[0].errors > 0


def test_pure_noise_makes_garbage_with_errors() -> None:
    wire = VirtualWire(LineSettings(), LineSettings(), faults=Faults(
        noise=(NoiseBurst(0.0, 10.0, rate=5000),)), seed=1)
    got = wire.read(2.0)
    assert len(got.data) > 1000
    assert got.framing_errors > 0.05 * len(got.data)


def test_meter_changing_speed_mid_stream() -> None:
    wire = VirtualWire(LineSettings(), LineSettings())
    wire.send(P1_TEXT, 0.0)
    first = wire.read(0.5)
    wire.meter_settings = LineSettings.parse("9600 7E1")
    wire.send(P1_TEXT, 0.5)
    second = wire.read(1.0)
    assert first.data == P1_TEXT
    assert first.errors == 0
    assert second.breaks > len(P1_TEXT)
    wire.reader_settings = LineSettings.parse("9600 7E1")
    wire.send(P1_TEXT, 1.0)
    assert wire.read(1.5).data == P1_TEXT


def test_line_probe_measures_bit_time_and_rest_level() -> None:
    for text, idle in (("2400 8E1", True), ("9600 7E1 inverted", False)):
        line = LineSettings.parse(text)
        wire = VirtualWire(line, LineSettings())
        wire.send(bytes(range(256)), 0.5)
        wire.read(5.0)
        probe = wire.probe()
        assert probe.baudrate == line.baudrate
        assert probe.idle_high is idle


def test_ticks_are_exact_for_standard_rates() -> None:
    for baud in (300, 1200, 2400, 9600, 19200, 38400, 57600, 115200, 921600):
        assert TICK_HZ % (2 * baud) == 0
    assert to_ticks(1.0) == TICK_HZ
