"""Mutation fuzzing of the meter decoders, seeded: shared by the test suite (a few thousand
frames per decoder) and bench/bench_fuzz.py (10^5 and more, with timings).

Seeds are real frames of the virtual meters; each mutation damages one the way a line or
a hostile peer would: bit flips, truncation, inserted and deleted bytes, long runs of one
byte, length fields that lie, runs of frame starts, two frames spliced. Half the mutations
hit the wire bytes (the framers see them); the other half hit the content under the link
layer's check sequence, which is then computed afresh (P1 CRC, HDLC FCS, M-Bus checksum,
KMP CRC, AES-GCM tag), so the damage reaches the parsers behind the checks. The mutated
frames go, back to back with good ones now and then, through one long-lived decoder in
chunks of random size, as a serial line delivers them. Everything a decoder raises is
caught and counted: the decoders must never raise (nor need the net of
meter_protocols.guard).
"""

from __future__ import annotations

import dataclasses
import random
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Final

from meter_protocols.detect.evidence import analyse
from meter_protocols.dlms import DlmsDecoder, DlmsKeys, gbt, hdlc, mbus, security
from meter_protocols.dlms.encoder import build_body
from meter_protocols.dlms.link import LLC_HEADERS
from meter_protocols.dsmr.decoder import DsmrDecoder, crc16
from meter_protocols.kmp import codec
from meter_protocols.kmp.poller import KmpPoller
from meter_protocols.kmp.responder import KmpResponder
from meter_protocols.line import LineSettings
from meter_protocols.readings import Event, Problem, ProblemKind
from meter_protocols.simulator.meter import VirtualMeter
from meter_protocols.simulator.profiles import get_profile
from meter_protocols.simulator.profiles_dlms import DlmsPushEncoder, encoder_for
from meter_protocols.simulator.profiles_kmp import OMNIPOWER_MODEL

START: Final = 1_737_540_000.0  # 2025-01-22, a Wednesday
#: The most a decoder may hold of unfinished input (its framer, reassembly, auto framing).
BUFFER_BOUND: Final = 24 * 1024
#: The bytes each family's frames start with (for runs of false starts).
_STARTS: Final = {
    "dsmr": (b"/", b"/ESR5\r\n", b"!", b"\r\n"),
    "hdlc": (b"\x7e", b"\x7e\xa0", b"\x7e\xa7\xff", b"\x7e\xa8\x10", b"\x7d"),
    "mbus": (b"\x68", b"\x68\xff\xff\x68", b"\x10", b"\xe5", b"\x16"),
    "raw": (b"\x0f", b"\xdb\x08", b"\xe0\x40\x00\x01", b"\xe6\xe7\x00", b"\x01\x82\xff\xff"),
    "kmp": (b"\x40", b"\x80", b"\x06", b"\x1b", b"\x0d"),
    "content": (b"\x00", b"\x01\x82\xff\xff", b"\x02\x09", b"\x13\x01\x00\x10\x00",
                b"\x09\x0c", b"1", b"(", b"*", b"\xe0\xc0\x00\x01\x00\x00\x00"),
}
#: Where a frame of each family carries a length (offsets from its first byte).
_LENGTHS: Final = {"dsmr": (), "hdlc": (1, 2), "mbus": (1, 2), "raw": (1, 10, 11, 12),
                   "kmp": (), "content": (5, 6, 7, 8)}


class _DecoderUnderTest:
    """A decoder with one interface: feed bytes, get events, tell what it holds."""

    def __init__(self, feed: Callable[[bytes], list[Event]], buffered: Callable[[], int],
                 ) -> None:
        self.feed = feed
        self.buffered = buffered


def _push_frames(name: str, count: int, **options: object) -> list[bytes]:
    profile = get_profile(name)
    if options:
        profile = dataclasses.replace(profile,
                                      encoder=lambda p: encoder_for(p, **options))
    meter = VirtualMeter(profile, seed=3, start=START)
    frames = []
    for _ in range(count):
        due = meter.next_push_at()
        assert due is not None
        frames.append(meter.push(due))
    return frames


def _keys(name: str) -> DlmsKeys | None:
    keys = get_profile(name).keys
    return DlmsKeys.from_hex(keys.encryption_key, keys.authentication_key) if keys else None


def _kmp_answers() -> list[bytes]:
    """A gateway's requests and the meter's answers for two poll cycles."""
    meter = VirtualMeter(get_profile("kamstrup-omnipower"), seed=3, start=START)
    poller = KmpPoller(start=START, gap=0.0)
    t, out = START, []
    for _ in range(40):
        request = poller.poll(t)
        if request:
            answer = meter.receive(request, t)
            out += [request, answer]
            poller.feed(answer, t)
        t = poller.next_deadline()
    return out


def _plain_apdus(name: str, count: int) -> list[bytes]:
    """A DLMS meter's data-notifications before ciphering and framing."""
    profile = get_profile(name)
    meter = VirtualMeter(profile, seed=3, start=START)
    encoder = meter.profile.encoder(profile) if meter.profile.encoder else None
    assert isinstance(encoder, DlmsPushEncoder)
    out = []
    for k in range(1, count + 1):
        snap = meter.state.advance(START + k * profile.interval)
        body = build_body(encoder.layout, snap.values, profile.identity, snap.meter_time,
                          snap.tariff)
        out.append(encoder.frames.apdu(body, snap.meter_time))
    return out


_TITLE = b"FUZZ\x00\x00\x00\x01"


def _wrap_dlms(link: str, keys: DlmsKeys | None) -> Callable[[bytes, random.Random], bytes]:
    """A (damaged) plain APDU on the wire again: sometimes ciphered with the decoder's own
    keys (any security control, the tag right), sometimes in GBT blocks, then in the
    link's frames with their check sequences computed."""
    def wrap(apdu: bytes, rng: random.Random) -> bytes:
        if keys is not None and rng.random() < 0.5:
            sc = rng.choice((0x00, 0x10, 0x20, 0x30))
            apdu = security.encrypt(apdu, system_title=_TITLE,
                                    invocation_counter=rng.randrange(1 << 32),
                                    security_control=sc, keys=_full(keys))
        units = [apdu]
        if rng.random() < 0.3:
            units = gbt.build_blocks(apdu, rng.randint(1, 200))
        out = bytearray()
        for unit in units:
            if link == "hdlc":
                out += hdlc.build_frames(LLC_HEADERS[0] + unit, dest=b"\x41", src=b"\x03",
                                         control=0x13, max_info=rng.choice((64, 128, 1024)))
            elif link == "mbus":
                fits = unit[:16 * 240]
                size = max(rng.randint(16, 240), -(-len(fits) // 16))
                out += mbus.build_frames(fits, segment_size=size)
            else:
                out += unit
        return bytes(out)
    return wrap


def _full(keys: DlmsKeys) -> DlmsKeys:
    """Authentication needs a key to compute a tag; without one the decoder skips it."""
    return keys if keys.authentication_key else DlmsKeys(keys.encryption_key, bytes(16))


def _dsmr_content(telegram: bytes) -> tuple[bytes, Callable[[bytes, random.Random], bytes]]:
    """The text between "/" and "!", and how to make it a telegram with a right CRC."""
    body = telegram[:telegram.rindex(b"!")]

    def wrap(text: bytes, rng: random.Random) -> bytes:
        full = text + b"!"
        return full + f"{crc16(full.decode('latin-1')):04X}\r\n".encode()
    return body, wrap


def _kmp_wrap(message: bytes, rng: random.Random) -> bytes:
    """address, CID, data: a KMP answer with its CRC and stuffing computed."""
    if len(message) < 2:
        return codec.encode_response(0x10, message)
    return codec.encode_response(message[1], message[2:], address=message[0])


def _kmp_content(frame: bytes) -> bytes:
    decoded = codec.decode_frame(frame)
    assert isinstance(decoded, codec.Message)
    return bytes((decoded.address, decoded.cid)) + decoded.data


Wrap = Callable[[bytes, random.Random], bytes]


@dataclass(frozen=True, slots=True)
class Target:
    """What is fuzzed: a family's good frames, the content under their checks (with how to
    put it back on the wire), and how to build the decoder."""

    name: str
    family: str
    seeds: tuple[bytes, ...]
    build: Callable[[], _DecoderUnderTest]
    contents: tuple[bytes, ...] = ()
    wrap: Wrap | None = None


def _dlms(framing: str, keys: DlmsKeys | None) -> Callable[[], _DecoderUnderTest]:
    def build() -> _DecoderUnderTest:
        decoder = DlmsDecoder(keys=keys, framing=framing)
        return _DecoderUnderTest(decoder.feed, lambda: decoder.buffered)
    return build


def _dsmr() -> _DecoderUnderTest:
    decoder = DsmrDecoder()
    return _DecoderUnderTest(decoder.feed, lambda: decoder.buffered)


def _kmp() -> _DecoderUnderTest:
    """The gateway's poller, always waiting for an answer (so answers are parsed)."""
    poller = KmpPoller(start=0.0, gap=0.0, response_timeout=1e9)
    clock = [0.0]

    def feed(data: bytes) -> list[Event]:
        poller.poll(clock[0])
        events = poller.feed(data, clock[0])
        clock[0] = max(clock[0], poller.next_deadline())
        return events
    return _DecoderUnderTest(feed, lambda: poller.buffered)


def _kmp_meter() -> _DecoderUnderTest:
    """The meter's responder fed requests; its answers are not events, so none come."""
    profile = get_profile("kamstrup-omnipower")
    meter = VirtualMeter(profile, seed=3, start=START)
    responder = KmpResponder(profile, OMNIPOWER_MODEL)

    def feed(data: bytes) -> list[Event]:
        responder.receive(data, lambda: meter.state.advance(START))
        return [Problem(ProblemKind.DECODER_FAULT, "responder")] if responder.faults else []
    return _DecoderUnderTest(feed, lambda: responder.buffered)


#: UART error flags made up from the bytes themselves (framing, parity, break bits).
_SOME_FLAGS: Final = bytes(b & 7 if b % 5 == 0 else 0 for b in range(256))


def _sniffer() -> _DecoderUnderTest:
    """The detector's sniffers and evidence over what arrived (flags of every kind)."""
    settings = LineSettings.parse("2400 8E1")

    def feed(data: bytes) -> list[Event]:
        flags = data.translate(_SOME_FLAGS) if data[:1] < b"\x80" else None
        analyse(data, flags, settings, chars_per_second=240.0, bursts=2,
                bursts_ending_in_break=1)
        return []
    return _DecoderUnderTest(feed, lambda: 0)


def targets() -> list[Target]:
    hdlc_frames = _push_frames("iskra-am550", 4) + _push_frames("lg-e570", 4) + \
        _push_frames("lg-e450", 2)
    raw = _push_frames("kaifa-ma309", 3, framing="raw") + \
        _push_frames("iskra-am550", 3, framing="raw")
    kmp = _kmp_answers()
    iskra, kaifa = _keys("iskra-am550"), _keys("kaifa-ma309")
    apdus = tuple(_plain_apdus("lg-e450", 2) + _plain_apdus("lg-e570", 2)
                  + _plain_apdus("kaifa-ma309", 2) + _plain_apdus("iskra-am550", 2))
    dsmr = _push_frames("ensor-ers", 6)
    _, dsmr_wrap = _dsmr_content(dsmr[0])
    return [
        Target("dsmr", "dsmr", tuple(dsmr), _dsmr,
               tuple(_dsmr_content(t)[0] for t in dsmr), dsmr_wrap),
        Target("hdlc", "hdlc", tuple(hdlc_frames), _dlms("hdlc", iskra), apdus,
               _wrap_dlms("hdlc", iskra)),
        Target("mbus", "mbus", tuple(_push_frames("kaifa-ma309", 6)), _dlms("mbus", kaifa),
               apdus, _wrap_dlms("mbus", kaifa)),
        Target("raw-apdu", "raw", tuple(raw), _dlms("raw", iskra), apdus,
               _wrap_dlms("raw", iskra)),
        Target("dlms-auto", "hdlc", tuple(hdlc_frames + raw), _dlms("auto", iskra), apdus,
               _wrap_dlms("hdlc", iskra)),
        Target("kmp", "kmp", tuple(kmp[1::2]), _kmp,
               tuple(_kmp_content(a) for a in kmp[1::2] if a), _kmp_wrap),
        Target("kmp-meter", "kmp", tuple(kmp[0::2]), _kmp_meter,
               tuple(_kmp_content(r) for r in kmp[0::2]),
               lambda m, rng: codec.encode_request(m[1], m[2:], address=m[0])
               if len(m) >= 2 else codec.encode_request(0x10, m)),
        Target("sniff", "hdlc", tuple(hdlc_frames + raw + kmp + dsmr), _sniffer),
    ]


# --- mutations --------------------------------------------------------------------------

def mutate(frame: bytes, family: str, rng: random.Random, seeds: tuple[bytes, ...]) -> bytes:
    """One damaged copy of `frame` (sometimes two mutations on top of each other)."""
    data = bytearray(frame)
    for _ in range(1 if rng.random() < 0.7 else 2):
        kind = rng.randrange(8)
        if kind == 0 and data:  # bit flips
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif kind == 1 and data:  # truncation (to nothing, a third of the time)
            del data[rng.choice((0, rng.randrange(len(data)), rng.randrange(len(data)))):]
        elif kind == 2:  # insertion
            at = rng.randint(0, len(data))
            data[at:at] = rng.randbytes(rng.randint(1, 64))
        elif kind == 3 and data:  # deletion
            at = rng.randrange(len(data))
            del data[at:at + rng.randint(1, 32)]
        elif kind == 4:  # a length field that lies
            offsets = _LENGTHS[family] or (rng.randrange(max(len(data), 1)),)
            at = rng.choice(offsets)
            if at < len(data):
                data[at] = rng.choice((0x00, 0x01, 0x7F, 0x80, 0x81, 0x82, 0x84, 0xFF,
                                       rng.randrange(256)))
        elif kind == 5:  # runs of frame starts, or a byte already there repeated in place
            at = rng.randint(0, len(data))
            run = rng.choice(_STARTS[family]) if rng.random() < 0.5 or at == len(data) \
                else data[at:at + 1]
            data[at:at] = run * (5000 if rng.random() < 0.2 else rng.randint(1, 400))
        elif kind == 6:  # two frames spliced
            other = rng.choice(seeds)
            data = data[:rng.randint(0, len(data))] + other[rng.randint(0, len(other)):]
        else:  # a whole byte replaced by a special one
            if data:
                data[rng.randrange(len(data))] = rng.choice(
                    (0x00, 0xFF, 0x7E, 0x7D, 0x68, 0x16, 0x0F, 0xDB, 0x40, 0x80, 0x0D,
                     0x1B, 0x2F, 0x21, 0xB2, 0xB3, 0xB9))
    return bytes(data)


def stream(target: Target, frames: int, rng: random.Random) -> Iterator[bytes]:
    """`frames` mutated frames, with a good one now and then, back to back."""
    for _ in range(frames):
        if target.wrap is not None and target.contents and rng.random() < 0.5:
            content = rng.choice(target.contents)
            yield target.wrap(mutate(content, "content", rng, target.contents), rng)
            continue
        seed = rng.choice(target.seeds)
        yield seed if rng.random() < 0.1 else mutate(seed, target.family, rng, target.seeds)


# --- running ------------------------------------------------------------------------------

@dataclass(slots=True)
class Result:
    name: str
    frames: int = 0
    bytes: int = 0
    escaped: int = 0  # exceptions out of feed()
    faults: int = 0  # DECODER_FAULT problems: exceptions the net caught
    first_error: str = ""
    max_buffered: int = 0
    events: int = 0
    max_feed_4k: float = 0.0  # seconds (timed runs)
    memory_growth: int = 0  # bytes (traced runs)
    kinds: dict[str, int] = field(default_factory=dict)


def run(target: Target, frames: int, seed: int, *, timed: bool = False,
        traced: bool = False) -> Result:
    """Feed `frames` mutated frames to one decoder, in chunks of random size. With `timed`
    the stream is cut into 4 kB feeds instead, and the worst time per feed is kept; with
    `traced`, memory is traced and its growth after the first tenth of the frames kept."""
    rng = random.Random(seed)
    decoder = target.build()
    result = Result(target.name)
    if traced:
        tracemalloc.start()
    baseline = 0
    pending = bytearray()
    for index, frame in enumerate(stream(target, frames, rng)):
        if traced and index == frames // 10:
            baseline = tracemalloc.get_traced_memory()[0]
        result.frames += 1
        result.bytes += len(frame)
        if timed:
            pending += frame
            while len(pending) >= 4096:
                chunk, pending = bytes(pending[:4096]), pending[4096:]
                began = time.perf_counter()
                _feed(decoder, chunk, result)
                result.max_feed_4k = max(result.max_feed_4k, time.perf_counter() - began)
        else:
            at = 0
            while at < len(frame):
                size = rng.choice((1, 7, 64, 256, 4096))
                _feed(decoder, frame[at:at + size], result)
                at += size
        result.max_buffered = max(result.max_buffered, decoder.buffered())
    if traced:
        result.memory_growth = tracemalloc.get_traced_memory()[0] - baseline
        tracemalloc.stop()
    return result


def _feed(decoder: _DecoderUnderTest, data: bytes, result: Result) -> None:
    try:
        events = decoder.feed(data)
    except Exception as exc:  # noqa: BLE001 - counting what escapes is the point
        result.escaped += 1
        result.first_error = result.first_error or f"{type(exc).__name__}: {exc}"
        return
    result.events += len(events)
    for event in events:
        if isinstance(event, Problem):
            result.kinds[event.kind.value] = result.kinds.get(event.kind.value, 0) + 1
            if event.kind is ProblemKind.DECODER_FAULT:
                result.faults += 1
                result.first_error = result.first_error or event.detail
