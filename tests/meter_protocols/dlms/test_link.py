"""Link layers: HDLC frames and segments, M-Bus long frames and transport segments, GBT."""

from __future__ import annotations

import pytest

from meter_protocols.dlms import gbt, hdlc, mbus
from meter_protocols.dlms.crc import crc16_x25
from meter_protocols.dlms.hdlc import HdlcAssembler, HdlcFrame, HdlcFramer
from meter_protocols.dlms.link import LinkMessage
from meter_protocols.dlms.mbus import MbusAssembler, MbusFrame, MbusFramer
from meter_protocols.readings import Problem, ProblemKind

ADDR = {"dest": b"\x41", "src": b"\x08\x83", "control": 0x13}


def test_crc_x25_check_value() -> None:
    assert crc16_x25(b"123456789") == 0x906E


def test_hdlc_frame_layout() -> None:
    frame = hdlc.build_frame(b"\xe6\xe7\x00\x0f", **ADDR)
    assert frame[0] == frame[-1] == 0x7E
    assert frame[1] == 0xA0
    assert frame[2] == len(frame) - 2
    [parsed] = HdlcFramer().feed(frame)
    assert isinstance(parsed, HdlcFrame)
    assert (parsed.dest, parsed.src, parsed.control) == (b"\x41", b"\x08\x83", 0x13)
    assert parsed.info == b"\xe6\xe7\x00\x0f"
    assert not parsed.segmented


def test_hdlc_segments_carry_the_s_bit() -> None:
    payload = bytes(range(256)) * 2
    wire = hdlc.build_frames(payload, max_info=100, **ADDR)
    frames = [f for f in HdlcFramer().feed(wire) if isinstance(f, HdlcFrame)]
    assert [f.segmented for f in frames] == [True] * 5 + [False]
    assert wire[1] == 0xA8  # first segment: frame format 0xA8
    assembler = HdlcAssembler()
    messages = [m for f in frames for m in assembler.push(f)]
    assert messages == [LinkMessage(payload, len(wire), 6)]


def test_hdlc_bad_fcs_is_reported_and_the_next_frame_read() -> None:
    good = hdlc.build_frame(b"\x01\x02\x03\x04", **ADDR)
    bad = bytearray(good)
    bad[-4] ^= 0xFF
    out = HdlcFramer().feed(bytes(bad) + good)
    assert [type(x) for x in out] == [Problem, HdlcFrame]
    assert isinstance(out[0], Problem)
    assert out[0].kind is ProblemKind.BAD_CRC


def test_hdlc_cut_frame_then_good_frame() -> None:
    good = hdlc.build_frame(bytes(40), **ADDR)
    framer = HdlcFramer()
    out = framer.feed(good[:20]) + framer.feed(good)
    assert isinstance(out[0], Problem)
    assert out[0].kind is ProblemKind.TRUNCATED
    assert isinstance(out[1], HdlcFrame)


def test_hdlc_garbage_and_shared_flags() -> None:
    one = hdlc.build_frame(b"\xaa", **ADDR)
    two = hdlc.build_frame(b"\xbb", **ADDR)
    out = HdlcFramer().feed(b"noise" + one + two[1:])  # second frame shares the flag
    kinds = [x.kind if isinstance(x, Problem) else x.info for x in out]
    assert kinds == [ProblemKind.UNKNOWN_FORMAT, b"\xaa", b"\xbb"]


def test_hdlc_missing_and_repeated_segments() -> None:
    wire = hdlc.build_frames(bytes(range(200)), max_info=50, **ADDR)
    frames = [f for f in HdlcFramer().feed(wire) if isinstance(f, HdlcFrame)]
    assembler = HdlcAssembler()
    repeated = [frames[0], frames[1], frames[1], frames[2], frames[3]]
    out = [m for f in repeated for m in assembler.push(f)]
    assert [type(m) for m in out] == [Problem]
    assert isinstance(out[0], Problem)
    assert out[0].kind is ProblemKind.SEGMENT_ERROR
    # the next complete message goes through
    assert [type(m) for f in frames for m in assembler.push(f)] == [LinkMessage]


def test_hdlc_i_frame_sequence_gap() -> None:
    def i_frame(ns: int, data: bytes, segmented: bool) -> HdlcFrame:
        return HdlcFrame(segmented, b"\x41", b"\x03", ns << 1, data, 10)

    assembler = HdlcAssembler()
    out = assembler.push(i_frame(0, b"a", True)) + assembler.push(i_frame(2, b"c", False))
    assert [p.kind for p in out if isinstance(p, Problem)] == [ProblemKind.SEGMENT_ERROR]


def test_mbus_long_frames_and_transport_segments() -> None:
    payload = bytes(range(200)) * 3
    wire = mbus.build_frames(payload, segment_size=245)
    assert wire[:9].hex() == "68fafa6853ff000167"
    frames = MbusFramer().feed(wire)
    assert all(isinstance(f, MbusFrame) for f in frames)
    assert [f.ci for f in frames if isinstance(f, MbusFrame)] == [0x00, 0x01, 0x12]
    assembler = MbusAssembler()
    out = [m for f in frames if isinstance(f, MbusFrame) for m in assembler.push(f)]
    assert out == [LinkMessage(payload, len(wire), 3)]


def test_mbus_checksum_missing_and_repeated_segment() -> None:
    wire = mbus.build_frames(bytes(600), segment_size=245)
    frames = [f for f in MbusFramer().feed(wire) if isinstance(f, MbusFrame)]
    bad = bytearray(wire)
    bad[20] ^= 0x01
    framed = MbusFramer().feed(bytes(bad))
    assert isinstance(framed[0], Problem)
    assert framed[0].kind is ProblemKind.BAD_CRC
    for sequence in ([frames[0], frames[2]], [frames[0], frames[1], frames[1], frames[2]]):
        assembler = MbusAssembler()
        out = [m for f in sequence for m in assembler.push(f)]
        assert [m.kind for m in out if isinstance(m, Problem)] == [ProblemKind.SEGMENT_ERROR]
        assert not any(isinstance(m, LinkMessage) for m in out)
        good = [m for f in frames for m in assembler.push(f)]
        assert [type(m) for m in good] == [LinkMessage]


@pytest.mark.parametrize("size", [250, 251, 252])
def test_mbus_length_mod_256_frames(size: int) -> None:
    """257..259 bytes C..data with L = length mod 256 (Sagemcom T210-D) are read whole,
    alone, behind another frame and fed byte by byte; a bad checksum is still one."""
    payload = bytes(range(256))[:size] + b"tail" * 5
    wire = mbus.build_frames(payload, segment_size=size, length_quirk=True)
    assert wire[1] == wire[2] == (size + 5) & 0xFF
    plain = mbus.build_frames(b"\x0f\x01")
    stream = plain + wire
    framer = MbusFramer()
    frames = [f for b in stream for f in framer.feed(bytes((b,)))]
    assert [type(f) for f in frames] == [MbusFrame] * 3
    assembler = MbusAssembler()
    [message] = [m for f in frames[1:] if isinstance(f, MbusFrame) for m in assembler.push(f)]
    assert isinstance(message, LinkMessage) and message.payload == payload
    bad = bytearray(wire)
    bad[100] ^= 0x01
    [first, second] = MbusFramer().feed(bytes(bad))
    assert isinstance(first, Problem) and first.kind is ProblemKind.BAD_CRC
    assert isinstance(second, MbusFrame)


def test_mbus_skips_ack_and_short_frames() -> None:
    wire = b"\xe5" + bytes.fromhex("105bfe5916") + mbus.build_frames(b"\x0f\x01")
    out = MbusFramer().feed(wire)
    assert [type(x) for x in out] == [MbusFrame]


def test_gbt_blocks_reassemble_and_gaps_are_errors() -> None:
    apdu = bytes(range(256)) * 2
    blocks = [gbt.parse_block(b) for b in gbt.build_blocks(apdu, 100)]
    assert [b.number for b in blocks] == [1, 2, 3, 4, 5, 6]
    assert [b.last for b in blocks] == [False] * 5 + [True]
    assembler = gbt.GbtAssembler()
    assert [x for b in blocks for x in assembler.push(b)] == [apdu]
    out = [x for b in (blocks[0], blocks[2], blocks[3]) for x in assembler.push(b)]
    assert [x.kind for x in out if isinstance(x, Problem)] == [ProblemKind.SEGMENT_ERROR]
    # the rest of the broken transfer is skipped quietly, the next one decodes
    assert [x for b in blocks[4:] for x in assembler.push(b)] == []
    assert [x for b in blocks for x in assembler.push(b)] == [apdu]


def test_gbt_block_header() -> None:
    [block] = gbt.build_blocks(b"\x0f\x00", 100)
    assert block.hex() == "e0c00001000002" "0f00"
    with pytest.raises(gbt.AxdrError):
        gbt.parse_block(b"\xe0\xc0\x00\x01\x00\x00\x05\x0f")
