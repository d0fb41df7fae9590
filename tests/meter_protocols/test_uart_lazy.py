"""Clean pieces of the UART line model carry their bytes, not their edges: the edges are built
only where something needs them (the receiver's slow path, noise, a line monitor that cannot
work from the bytes), cutting a piece copies nothing, and every answer is the one the edges
give. The references here are the eager computations the model made before."""

from __future__ import annotations

from bisect import bisect_left, bisect_right

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meter_protocols.line import LineSettings, Parity
from meter_protocols.uart import (
    TICK_HZ,
    Faults,
    Levels,
    Received,
    Transmitter,
    VirtualWire,
    to_ticks,
)
from meter_protocols.uart import levels as levels_module
from meter_protocols.uart.levels import half_bits
from meter_protocols.uart.wire import _Monitor

LINES = st.builds(
    LineSettings,
    baudrate=st.sampled_from([300, 600, 1200, 2400, 9600, 115200, 14400, 250000, 921600]),
    data_bits=st.sampled_from([7, 8]),
    parity=st.sampled_from(list(Parity)),
    stop_bits=st.sampled_from([1.0, 1.5, 2.0]),
    inverted=st.booleans(),
)
FRAME = bytes(range(256)) * 4


def eager(settings: LineSettings, data: bytes, origin: int) -> tuple[list[int], list[int]]:
    """The edges and character ends as the transmitter computed them for every byte."""
    length, table = half_bits(settings)
    scale = 2 * settings.baudrate
    mask = (1 << settings.data_bits) - 1
    edges: list[int] = []
    ends: list[int] = []
    base = 0
    for byte in data:
        edges.extend(origin + ((base + h) * TICK_HZ) // scale for h in table[byte & mask])
        base += length
        ends.append(origin + (base * TICK_HZ) // scale)
    return edges, ends


@settings(max_examples=120, deadline=None)
@given(line=LINES, data=st.binary(max_size=60), at=st.floats(0, 0.5),
       cuts=st.lists(st.floats(0, 1), max_size=6))
def test_edges_and_cuts_equal_the_eager_computation(line: LineSettings, data: bytes, at: float,
                                                     cuts: list[float]) -> None:
    piece = Transmitter(line).send(data, at=at)
    edges, ends = eager(line, data, to_ticks(at))
    assert not piece.edges_built
    assert piece.end == (ends[-1] if ends else to_ticks(at))
    assert list(piece.edges) == edges
    # Cut again and again at arbitrary instants: each cut falls where the eager rule put it
    # (after the last character ended by then, or at the first start edge), the halves share
    # the transmission's bytes, and their edges are the whole piece's.
    rest = Transmitter(line).send(data, at=at)
    pieces: list[Levels] = []
    for fraction in sorted(cuts):
        tick = rest.start + round(fraction * (rest.end - rest.start))
        done = rest.clean.lo if rest.clean else 0
        k = bisect_right(ends, tick, lo=done)
        first, rest = rest.split(tick)
        if k < len(data):
            expected = ends[k - 1] if k > done else min(tick, edges[bisect_left(edges, rest.start)]
                                                        if edges else tick)
            assert first.end == expected == rest.start
        assert first.clean is not None and rest.clean is not None
        assert first.clean.data is rest.clean.data  # nothing copied
        pieces.append(first)
    pieces.append(rest)
    assert [e for p in pieces for e in p.edges] == edges
    assert b"".join(p.clean.chars for p in pieces if p.clean) == \
        bytes(b & ((1 << line.data_bits) - 1) for b in data)
    assert all(p.level_at_end == p.level0 ^ bool(len(p.edges) & 1) for p in pieces)


@settings(max_examples=120, deadline=None)
@given(line=LINES, bursts=st.lists(st.tuples(st.binary(max_size=30), st.floats(0, 0.05)),
                                   min_size=1, max_size=4),
       reads=st.lists(st.floats(0.0005, 0.05), min_size=1, max_size=8))
def test_the_line_monitor_measures_clean_pieces_from_their_bytes_exactly(
        line: LineSettings, bursts: list[tuple[bytes, float]], reads: list[float]) -> None:
    """One monitor sees the lazy pieces, the other the same pieces as bare edges: the idle
    level and the shortest pulse they report after every read are equal."""
    tx = Transmitter(line)
    pending: list[Levels] = []
    t = 0.0
    for data, gap in bursts:
        pending.append(tx.idle(t + gap))
        pending.append(tx.send(data, at=t + gap))
        t = tx.time
    lazy, eager_monitor = _Monitor(), _Monitor()
    now = 0
    for step in [*reads, t + 0.1]:
        now = max(now, to_ticks(step) if step > t else now + to_ticks(step))
        while pending and pending[0].start < now:
            piece = pending.pop(0)
            if piece.end > now:
                piece, rest = piece.split(now)
                pending.insert(0, rest)
                if piece.end == piece.start:
                    break  # the next character is not complete: wait for it
            lazy.observe(piece)
            eager_monitor.observe(Levels(piece.start, piece.end, piece.level0, piece.edges))
            assert lazy == eager_monitor  # the run in progress too, not only the results
        assert lazy.take() == eager_monitor.take()


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times edges were built, and for how many characters."""
    counts: list[int] = []
    original = levels_module.build_edges

    def counting(clean: levels_module.CleanSource) -> tuple[int, ...]:
        counts.append(clean.count)
        return original(clean)

    monkeypatch.setattr(levels_module, "build_edges", counting)
    return counts


def read_in_steps(wire: VirtualWire, data: bytes, step: float = 0.02) -> Received:
    end = wire.send(data, 0.001)
    out = Received()
    t = 0.0
    while t < end + 0.05:
        t += step
        out += wire.read(t)
    return out


def test_matched_settings_build_no_edges_at_2400_8e1(built: list[int]) -> None:
    line = LineSettings.parse("2400 8E1")
    wire = VirtualWire(line, line)
    assert read_in_steps(wire, FRAME) == Received(FRAME, bytes(len(FRAME)))
    assert wire.probe().baudrate == 2400  # the monitor measured it, from the bytes
    assert built == []


@pytest.mark.parametrize(("meter", "reader"), [("2400 8E1", "2400 8N1"),
                                               ("115200 8N1", "9600 8N1"),
                                               ("2400 8E1 inverted", "2400 8E1")])
def test_mismatched_settings_sample_the_edges_and_get_what_they_got(
        built: list[int], meter: str, reader: str) -> None:
    """The slow path still runs, on every character, and gives the answer of a receiver that
    is handed the same edges with no bytes to shortcut through."""
    wire = VirtualWire(LineSettings.parse(meter), LineSettings.parse(reader))
    got = read_in_steps(wire, FRAME)
    assert sum(built) == len(FRAME)
    reference = VirtualWire(LineSettings.parse(meter), LineSettings.parse(reader),
                            fast_path=False)
    assert got == read_in_steps(reference, FRAME)
    assert got.data != FRAME or got.errors  # wrong settings show


def test_faults_without_noise_keep_the_fast_path(built: list[int]) -> None:
    line = LineSettings.parse("115200 8N1")
    wire = VirtualWire(line, line, faults=Faults(drop_rate=0.01, flip_rate=0.01), seed=3)
    got = read_in_steps(wire, FRAME)
    assert len(got.data) < len(FRAME)  # bytes were dropped on the way
    assert built == []
