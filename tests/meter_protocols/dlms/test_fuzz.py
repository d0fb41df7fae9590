"""Garbage never raises, memory stays bounded, and good frames survive the noise."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from meter_protocols.dlms import DlmsDecoder, DlmsKeys, axdr, mbus
from meter_protocols.dlms.link import Framing
from meter_protocols.obis import Obis
from meter_protocols.readings import FrameDecoded, Problem
from meter_protocols.simulator.meter import VirtualMeter
from meter_protocols.simulator.profiles import get_profile
from meter_protocols.simulator.profiles_dlms import encoder_for
from tests.meter_protocols.dlms.helpers import readings

#: No decoder keeps more than this many bytes of unfinished input (link framer, auto
#: detection and reassembly together).
BOUND = 24 * 1024

_KAIFA = get_profile("kaifa-ma309")
_KEYS = DlmsKeys.from_hex("36C66639E48A8CA4D6BC8B282A793BBB")


def _frame() -> bytes:
    meter = VirtualMeter(_KAIFA, seed=5, start=1_735_700_000.0)
    t = meter.next_push_at()
    assert t is not None
    return meter.push(t)


GOOD = _frame()
_HDLC_GOOD = encoder_for(_KAIFA, framing=Framing.HDLC).frames.encode(
    axdr.structure(axdr.octets(Obis.parse("1-0:1.7.0").to_bytes()),
                   axdr.number(axdr.Tag.UINT32, 5)))
# byte soup that looks like the protocols: flags, starts, tags, lengths
_TOKENS = st.sampled_from([b"\x7e", b"\x7e\xa0", b"\x7e\xa8\x10", b"\x68", b"\x68\x10\x10\x68",
                           b"\x0f", b"\xdb\x08", b"\xe0\x40\x00\x01", b"\xe6\xe7\x00",
                           b"\x01\x82\xff", b"\x16", b"\x7d", GOOD[:40], GOOD[-40:]])
_SOUP = st.lists(st.one_of(st.binary(max_size=64), _TOKENS), max_size=40).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(_SOUP, st.sampled_from(list(Framing)), st.integers(1, 64))
def test_noise_never_raises(data: bytes, framing: Framing, chunk: int) -> None:
    decoder = DlmsDecoder(keys=_KEYS, framing=framing)
    events = []
    for i in range(0, len(data), chunk):
        events += decoder.feed(data[i:i + chunk])
        assert decoder.buffered <= BOUND
    events += decoder.flush()
    assert all(isinstance(e, FrameDecoded | Problem) for e in events)


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=1, max_size=300), st.binary(max_size=300))
def test_good_frame_after_noise_still_decodes(before: bytes, after: bytes) -> None:
    decoder = DlmsDecoder(keys=_KEYS, framing="mbus")
    events = decoder.feed(before + GOOD + GOOD + after)
    # noise may swallow the first frame (a 0x68 in it can open a frame that eats its
    # start); the second one always comes through
    assert len(readings(events)) >= 1


def test_a_megabyte_of_noise_keeps_memory_bounded() -> None:
    rng = random.Random(1)
    for framing in Framing:
        decoder = DlmsDecoder(keys=_KEYS, framing=framing)
        for _ in range(256):
            block = bytes(rng.getrandbits(8) for _ in range(1024))
            # sprinkle frame starts so the framers keep trying
            block = block.replace(b"\x00", b"\x7e").replace(b"\x01", b"\x68")
            decoder.feed(block)
            assert decoder.buffered <= BOUND
        assert decoder.counters  # the noise was reported, not silently eaten
        if framing is not Framing.RAW:  # without a link layer, nothing marks a restart
            good = _HDLC_GOOD if framing is Framing.HDLC else GOOD
            assert len(readings(decoder.feed(good * 3))) >= 2


def test_oversize_messages_are_dropped() -> None:
    decoder = DlmsDecoder(framing="mbus")
    # sixteen segments that never end (no FIN bit): the assembler must give up
    chunk = bytes(240)
    wire = b"".join(
        bytes((0x68, 245, 245, 0x68)) + bytes((0x53, 0xFF, seq, 0x01, 0x67)) + chunk
        + bytes(((0x53 + 0xFF + seq + 0x01 + 0x67) & 0xFF, 0x16))
        for seq in range(16)
    ) * 6
    events = decoder.feed(wire)
    assert not readings(events)
    assert decoder.buffered <= BOUND
    assert mbus.MAX_BUFFER < BOUND
