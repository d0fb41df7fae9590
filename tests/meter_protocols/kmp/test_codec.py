"""Frames: CRC, stuffing, encoding and decoding, and the streaming framer."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from meter_protocols.kmp import codec
from meter_protocols.kmp.codec import Acknowledge, Direction, Message
from meter_protocols.kmp.framer import KmpFramer
from meter_protocols.readings import Problem, ProblemKind

directions = st.sampled_from(list(Direction))
single_bytes = st.integers(0, 255)


def test_crc_is_ccitt_with_zero_init() -> None:
    # The published check value of CRC-16/XMODEM (poly 0x1021, init 0, unreflected).
    assert codec.crc16(b"123456789") == 0x31C3
    assert codec.crc16(b"") == 0


@given(st.binary(max_size=300))
def test_crc_over_message_and_crc_is_zero(data: bytes) -> None:
    assert codec.crc16(data + codec.crc16(data).to_bytes(2, "big")) == 0


@given(st.binary(max_size=300))
def test_stuffing_round_trips_and_hides_reserved_bytes(data: bytes) -> None:
    stuffed = codec.stuff(data)
    assert codec.unstuff(stuffed) == data
    # Outside escape pairs, no reserved byte is left; escape pairs hold complements.
    i = 0
    while i < len(stuffed):
        if stuffed[i] == codec.ESCAPE:
            assert stuffed[i + 1] ^ 0xFF in codec.RESERVED
            i += 2
        else:
            assert stuffed[i] not in codec.RESERVED
            i += 1
    assert len(stuffed) == len(data) + sum(b in codec.RESERVED for b in data)


def test_unstuff_rejects_bad_escapes() -> None:
    assert codec.unstuff(b"\x01\x1b") is None  # dangling
    assert codec.unstuff(b"\x1b\x00") is None  # 0x00 ^ 0xFF = 0xFF is not reserved
    assert codec.unstuff(b"\x1b\xf2") == b"\x0d"


@given(directions, single_bytes, single_bytes, st.binary(max_size=200))
def test_encode_decode_round_trip(direction: Direction, address: int, cid: int,
                                  data: bytes) -> None:
    raw = codec.encode(direction, cid, data, address)
    assert raw[0] == direction
    assert raw[-1] == codec.STOP
    assert codec.STOP not in raw[1:-1]
    assert codec.ACK not in raw[1:-1]
    decoded = codec.decode_frame(raw)
    assert decoded == Message(direction, address, cid, data, len(raw))


def test_decode_frame_reports_problems() -> None:
    good = codec.encode_response(0x02, b"\x01\x23\x45\x67")
    bad_crc = good[:-2] + bytes((good[-2] ^ 0x01,)) + good[-1:]
    result = codec.decode_frame(bad_crc)
    assert isinstance(result, Problem)
    assert result.kind is ProblemKind.BAD_CRC
    short = codec.decode_frame(b"\x40\x3f\x0d")
    assert isinstance(short, Problem)
    assert short.kind is ProblemKind.TRUNCATED
    not_frame = codec.decode_frame(b"\x41\x3f\x0d")
    assert isinstance(not_frame, Problem)
    assert not_frame.kind is ProblemKind.MALFORMED
    bad_escape = codec.decode_frame(b"\x40\x3f\x1b\x00\x0d")
    assert isinstance(bad_escape, Problem)
    assert bad_escape.kind is ProblemKind.MALFORMED


# -- the framer -----------------------------------------------------------------------------

FRAMES = [
    codec.encode_request(0x10, b"\x01\x00\x80"),
    codec.encode_response(0x02, b"\x01\x23\x45\x67"),
    codec.encode_response(0x10, b"\x00\x80\x16\x04\x11\x01\x2a\xf0\x24"),
]


@given(st.lists(st.integers(0, sum(len(f) for f in FRAMES)), max_size=10))
def test_framer_is_indifferent_to_chunking(cuts: list[int]) -> None:
    stream = b"".join(FRAMES)
    edges = [0, *sorted(cuts), len(stream)]
    framer = KmpFramer()
    items = []
    for a, b in itertools.pairwise(edges):
        items += framer.feed(stream[a:b])
    assert items == [codec.decode_frame(f) for f in FRAMES]
    assert all(isinstance(i, Message) for i in items)
    assert framer.buffered == 0


def test_framer_resynchronises_after_noise_and_cut_frames() -> None:
    framer = KmpFramer()
    items = framer.feed(b"\x11\x22" + FRAMES[1][:5] + FRAMES[2] + b"\x06" + FRAMES[0])
    kinds = [i.kind if isinstance(i, Problem) else type(i).__name__ for i in items]
    assert kinds == [ProblemKind.UNKNOWN_FORMAT, ProblemKind.TRUNCATED, "Message",
                     "Acknowledge", "Message"]
    assert isinstance(items[3], Acknowledge)
    noise = items[0]
    assert isinstance(noise, Problem)
    assert noise.data == b"\x11\x22"


def test_framer_drops_oversize_frames_and_waits_for_the_next_start() -> None:
    framer = KmpFramer(max_frame=64)
    items = framer.feed(b"\x40" + b"\x01" * 200 + b"\x0d" + FRAMES[1])
    assert [type(i).__name__ for i in items] == ["Problem", "Message"]
    first = items[0]
    assert isinstance(first, Problem)
    assert first.kind is ProblemKind.OVERSIZE


def test_framer_buffer_stays_bounded() -> None:
    framer = KmpFramer()
    for _ in range(200):
        framer.feed(b"\x80" + b"\x55" * 999)
        assert framer.buffered <= codec.MAX_FRAME
    framer.feed(b"\x55" * 100_000)  # noise: counted, not kept
    assert framer.buffered <= codec.MAX_FRAME


def test_framer_flush_reports_a_partial_frame() -> None:
    framer = KmpFramer()
    assert framer.feed(FRAMES[1][:4]) == []
    assert framer.in_frame
    items = framer.flush()
    assert len(items) == 1
    item = items[0]
    assert isinstance(item, Problem)
    assert item.kind is ProblemKind.TRUNCATED
    assert not framer.in_frame
    assert framer.flush() == []


@given(st.lists(st.binary(max_size=600), max_size=20))
def test_framer_never_raises_on_garbage(chunks: list[bytes]) -> None:
    framer = KmpFramer()
    for chunk in chunks:
        for item in framer.feed(chunk):
            assert isinstance(item, Message | Acknowledge | Problem)
            if isinstance(item, Problem):
                assert len(item.data) <= 256
        assert framer.buffered <= codec.MAX_FRAME
    framer.flush()
    assert framer.buffered == 0
