"""What the detector may try, in which order, and for how long: the meter settings turned into
line-setting candidates, with every timing decision in one table.

Line settings per protocol family, in prior order. The first candidate is also where the
detector listens while the line is silent, so it is the one whose miss costs most: M-Bus
DLMS at 2400 8E1, the most common meter in the device's home markets (Switzerland, Austria)
and among the slowest pushers (a first push read at the wrong speed costs a whole interval,
5-15 s there, against 1 s for a DSMR 5 meter). Then P1, then the rest of Europe:

| family    | line         | who sends it                                            |
|-----------|--------------|---------------------------------------------------------|
| dsmr      | 115200 8N1   | DSMR 4.x/5.x P1 (push every 1 s; DSMR 4.0/4.2 every 10 s) |
| dsmr      | 9600 7E1     | DSMR 2.2/3.0 P1 (push every 10 s)                        |
| mbus-dlms | 2400 8E1     | M-Bus DLMS push: Landis+Gyr E450/E570 (3-5 s), Kaifa      |
|           |              | MA309, Sagemcom T210 (5 s), some 10-15 s                 |
| mbus-dlms | 9600 8E1     | the same meters on a faster M-Bus master setting         |
| hdlc-dlms | 2400 8E1     | HDLC DLMS on M-Bus/HAN (Aidon, Kaifa: 2.5-10 s)          |
| hdlc-dlms | 2400 8N1     | Kamstrup HAN (10 s)                                      |
| hdlc-dlms | 115200 8N1   | P1-style ports pushing HDLC DLMS (Iskra AM550: 1-5 s)    |
| hdlc-dlms | 9600 8N1     | TTL customer interfaces                                  |
| kmp       | 9600 8N2     | Kamstrup KMP, pulled (answers within ~0.3 s)             |
| kmp       | 1200 8N2     | Kamstrup KMP on older optical/IR heads                   |

Timing (seconds), decided here and nowhere else:
- LISTEN: how long a candidate waits for a first burst before giving up on silence = the
  slowest push interval of its class + 1 s: P1 11 (DSMR 4 pushes every 10 s), DLMS 16 (the
  slowest common DLMS pushers send every 15 s), KMP 1.0 (two requests, 0.5 s each;
  a KMP meter answers within ~0.3 s, and an answer extends the window).
- BURST_GAP 0.4: bytes followed by this much quiet are one burst (a frame or a segmented
  push; segments of one push follow each other within ~0.1 s).
- busy limit: a candidate receiving bytes without pause and no frame is judged after the
  longest frame of its family at its speed could have passed twice (at least 1.5 s, at most
  6 s), or after 1.5 s when a fifth of the bytes carry UART errors (no frame will come of
  those): this is what ends a window of pure noise or of a meter at another speed.
- SILENT_PUSH 4 / probe: while the line is silent, the best push candidate listens 4 s, then
  each pull candidate gets a probe window, and around again (a pull meter is silent until
  asked, and a push meter's burst shows on any setting, so silence is never wasted). The
  first silent window of a search lasts FIRST_SILENT_PUSH (11 s): a push meter of any
  common cadence (up to 10 s) is then heard before a probe window could swallow its first
  push at the wrong settings, which would cost a whole interval more; a pull meter is
  found a few seconds later instead, still well within 20 s.
- NOT CONNECTED after the longest LISTEN of the allowed families without one byte.
- NOT RECOGNIZED after one full pass over the candidates with bytes but no fit, or after
  GIVE_UP (45 s) of bytes without a fit, whichever comes first; the search goes on.
- Locked: NO DATA after max(3 intervals + 1 s, 5 s) without a byte; re-detection after
  max(3 intervals + 1 s, 5 s) of bytes that decode to no frame, counted from the last good
  frame and needing at least two bursts (a single burst of noise never unlocks).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from meter_protocols.detect.sniff import Family
from meter_protocols.line import LineSettings, Parity
from meter_protocols.readings import Interface

BURST_GAP: Final = 0.4
SILENT_PUSH: Final = 4.0
FIRST_SILENT_PUSH: Final = 11.0
PROBE_TIMEOUT: Final = 0.5
PROBE_WINDOW: Final = 2 * PROBE_TIMEOUT
GIVE_UP: Final = 45.0
MIN_BUSY: Final = 1.5
MAX_BUSY: Final = 6.0
#: Bytes with UART errors in this share (of at least GARBAGE_BYTES) are judged at MIN_BUSY.
GARBAGE_SHARE: Final = 0.2
GARBAGE_BYTES: Final = 50

#: Slowest push interval (s) and largest frame (bytes) of each family.
SLOWEST_INTERVAL: Final = {Family.DSMR: 10.0, Family.HDLC_DLMS: 15.0, Family.MBUS_DLMS: 15.0,
                           Family.KMP: 4.0}
LARGEST_FRAME: Final = {Family.DSMR: 2048, Family.HDLC_DLMS: 1024, Family.MBUS_DLMS: 1024,
                        Family.KMP: 128}


def listen_time(family: Family) -> float:
    return PROBE_WINDOW if family.pull else SLOWEST_INTERVAL[family] + 1.0


def busy_limit(family: Family, line: LineSettings) -> float:
    frame_time = LARGEST_FRAME[family] * line.frame_bits / line.baudrate
    return min(MAX_BUSY, max(MIN_BUSY, 2 * frame_time))


class IfType(StrEnum):
    AUTO = "auto"
    P1 = "p1"
    MBUS = "mbus"
    TTL = "ttl"
    MEP = "mep"
    IRDA = "irda"
    UART = "uart"
    P1_ADAPTER = "p1_adapter"
    TTL_PUSH = "ttl_push"


class ProtocolChoice(StrEnum):
    AUTO = "auto"
    DSMR = "dsmr"
    HDLC = "hdlc"
    KMP = "kmp"
    MEP = "mep"
    MBUS = "mbus"
    MBTR = "mbtr"


class IfMode(StrEnum):
    AUTO = "auto"
    PUSH = "push"
    PULL = "pull"


def _l(text: str) -> LineSettings:
    return LineSettings.parse(text)


#: (line, family) in prior order for if_type auto; the other interface types filter it.
PRIOR: Final[tuple[tuple[LineSettings, Family], ...]] = (
    (_l("2400 8E1"), Family.MBUS_DLMS),
    (_l("115200 8N1"), Family.DSMR),
    (_l("2400 8E1"), Family.HDLC_DLMS),
    (_l("9600 7E1"), Family.DSMR),
    (_l("9600 8N2"), Family.KMP),
    (_l("115200 8N1"), Family.HDLC_DLMS),
    (_l("2400 8N1"), Family.HDLC_DLMS),
    (_l("9600 8N1"), Family.HDLC_DLMS),
    (_l("9600 8E1"), Family.MBUS_DLMS),
    (_l("1200 8N2"), Family.KMP),
)

_BY_PROTOCOL: Final = {
    ProtocolChoice.DSMR: {Family.DSMR},
    ProtocolChoice.HDLC: {Family.HDLC_DLMS},
    ProtocolChoice.MBUS: {Family.MBUS_DLMS},
    ProtocolChoice.MBTR: {Family.MBUS_DLMS},  # transparent M-Bus: raw APDUs, same decoder
    ProtocolChoice.KMP: {Family.KMP},
    ProtocolChoice.MEP: set(),  # no MEP decoder in this emulator
    ProtocolChoice.AUTO: set(Family),
}

_BY_IF_TYPE: Final = {
    IfType.AUTO: set(Family),
    IfType.UART: set(Family),
    IfType.P1: {Family.DSMR, Family.HDLC_DLMS},
    IfType.P1_ADAPTER: {Family.DSMR, Family.HDLC_DLMS},
    IfType.MBUS: {Family.MBUS_DLMS, Family.HDLC_DLMS},
    IfType.TTL: {Family.HDLC_DLMS, Family.MBUS_DLMS, Family.KMP},
    IfType.TTL_PUSH: {Family.HDLC_DLMS, Family.MBUS_DLMS},
    IfType.IRDA: {Family.KMP},
    IfType.MEP: set(),
}

#: Lines an interface type can carry (P1 is 115200 8N1 or 9600 7E1 by standard).
FACTORY_LINE: Final = LineSettings()
_P1_LINES: Final = frozenset({_l("115200 8N1"), _l("9600 7E1")})
_MBUS_LINES: Final = frozenset({_l("2400 8E1"), _l("9600 8E1"), _l("2400 8N1")})


@dataclass(frozen=True, slots=True)
class DetectConfig:
    """The parts of /api/v1/meter/settings that steer the line."""

    auto_baudrate: bool = True
    if_type: IfType = IfType.AUTO
    protocol: ProtocolChoice = ProtocolChoice.AUTO
    if_mode: IfMode = IfMode.AUTO
    baudrate: int = 115200
    parity: Parity = Parity.NONE
    stop_bits: float = 1.0
    rx_invert: bool = False

    def families(self) -> list[Family]:
        allowed = _BY_PROTOCOL[self.protocol] & _BY_IF_TYPE[self.if_type]
        if self.if_mode is IfMode.PUSH:
            allowed = {f for f in allowed if not f.pull}
        elif self.if_mode is IfMode.PULL:
            allowed = {f for f in allowed if f.pull}
        return [f for f in Family if f in allowed]

    def fixed_line(self) -> LineSettings:
        """The line when auto_baudrate is off. The settings have no data-bits field: 7 data
        bits are used when a parity is set on a P1 interface or with protocol dsmr (DSMR
        2.2/3 is 7E1, no other supported meter uses 7 bits); 8 otherwise."""
        p1 = self.if_type in (IfType.P1, IfType.P1_ADAPTER) or self.protocol is ProtocolChoice.DSMR
        seven = self.parity is not Parity.NONE and p1
        return LineSettings(self.baudrate, 7 if seven else 8, self.parity, self.stop_bits,
                            self.rx_invert)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One thing to try: read at `line` with a decoder of `family`."""

    line: LineSettings
    family: Family
    interface: Interface
    listen: float  # wait this long for a first burst before giving up on silence
    reason: str = ""

    @property
    def pull(self) -> bool:
        """The I/O layer must poll (send the family's requests) while this is applied."""
        return self.family.pull

    def __str__(self) -> str:
        return f"{self.line} {self.family.value}"


def interface_for(config: DetectConfig, family: Family, line: LineSettings) -> Interface:
    explicit = {IfType.P1: Interface.P1, IfType.P1_ADAPTER: Interface.P1,
                IfType.MBUS: Interface.MBUS, IfType.TTL: Interface.TTL,
                IfType.TTL_PUSH: Interface.TTL, IfType.MEP: Interface.MEP}
    if config.if_type in explicit:
        return explicit[config.if_type]
    if family is Family.DSMR:
        return Interface.P1
    if family is Family.MBUS_DLMS:
        return Interface.MBUS
    if family is Family.HDLC_DLMS:
        plain = LineSettings(line.baudrate, line.data_bits, line.parity, line.stop_bits)
        if plain in _MBUS_LINES:
            return Interface.MBUS
        if plain in _P1_LINES:
            return Interface.P1
    return Interface.TTL


def candidates(config: DetectConfig) -> list[Candidate]:
    """Everything the search may try, in prior order: the plain lines first, then (with
    auto_baudrate, which also covers rx_invert) the same lines inverted."""
    families = config.families()
    out: list[Candidate] = []
    if not config.auto_baudrate:
        line = config.fixed_line()
        order = [f for _, f in PRIOR if f in families]
        for family in dict.fromkeys(order):
            out.append(Candidate(line, family, interface_for(config, family, line),
                                 listen_time(family), "fixed settings"))
        return out
    plain: list[tuple[LineSettings, Family]] = []
    for line, family in PRIOR:
        if family not in families:
            continue
        if config.if_type in (IfType.P1, IfType.P1_ADAPTER) and line not in _P1_LINES:
            continue
        if config.if_type is IfType.MBUS and line not in _MBUS_LINES:
            continue
        plain.append((line, family))
    # Settings the user (or the last lock) left go first when they are a known line; the
    # factory settings (115200 none 1) say nothing about the meter.
    start = LineSettings(config.baudrate, 8, config.parity, config.stop_bits)
    if start != FACTORY_LINE:
        plain.sort(key=lambda lf: lf[0] != start)
    for inverted in (config.rx_invert, not config.rx_invert):
        for plain_line, family in plain:
            line = plain_line
            if inverted:
                line = LineSettings(line.baudrate, line.data_bits, line.parity,
                                    line.stop_bits, True)
            out.append(Candidate(line, family, interface_for(config, family, line),
                                 listen_time(family), "prior order"))
    return out
