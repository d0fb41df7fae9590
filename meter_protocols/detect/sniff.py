"""Which protocol do these bytes look like? Structural checks on raw bytes, no decoding.

Each sniffer looks for a frame's start bytes and checks enough of its structure that random
bytes almost never pass: a P1 telegram's header and OBIS lines; an HDLC frame whose length
field lands on the closing flag and whose FCS is right; an M-Bus long frame whose repeated
length, checksum and stop byte agree; a ciphered or plain DLMS APDU with a plausible header;
a KMP response whose CRC is right. A score is the number of such frames found; partial
evidence (a P1 header without its end, an HDLC start whose end has not arrived) counts half.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from meter_protocols.crc import crc16_ccitt, crc16_x25


class Family(StrEnum):
    """The protocol family a candidate reads with; the I/O layer builds its decoder."""

    DSMR = "dsmr"  # P1 telegrams (meter_protocols.dsmr)
    HDLC_DLMS = "hdlc-dlms"  # DLMS/COSEM in HDLC frames (0x7E ... 0x7E)
    MBUS_DLMS = "mbus-dlms"  # DLMS/COSEM in M-Bus long frames (68 L L 68 ... 16) or raw APDUs
    KMP = "kmp"  # Kamstrup Meter Protocol, pulled by requests

    @property
    def pull(self) -> bool:
        return self is Family.KMP

    @property
    def label(self) -> str:
        return _TITLES[self]


_TITLES: Final = {
    Family.DSMR: "DSMR P1",
    Family.HDLC_DLMS: "DLMS over HDLC",
    Family.MBUS_DLMS: "DLMS over M-Bus",
    Family.KMP: "Kamstrup KMP",
}

_P1_HEADER: Final = re.compile(rb"/[A-Za-z]{3}[0-9A-Za-z\\]")
_P1_LINE: Final = re.compile(rb"\d{1,3}-\d{1,3}:\d{1,3}\.\d{1,3}\.\d{1,3}(?:\.\d{1,3})?\(")
_P1_END: Final = re.compile(rb"!(?:[0-9A-Fa-f]{4})?\r\n")


#: The HDLC frame check sequence and the KMP CRC (one definition: meter_protocols.crc).
hdlc_fcs = crc16_x25
kmp_crc = crc16_ccitt


@dataclass(frozen=True, slots=True)
class Sniff:
    """Frames (or half-seen frames, counted 0.5) of each family found in some bytes."""

    dsmr: float = 0.0
    hdlc: float = 0.0
    mbus: float = 0.0
    apdu: float = 0.0
    kmp: float = 0.0

    def score(self, family: Family) -> float:
        if family is Family.DSMR:
            return self.dsmr
        if family is Family.HDLC_DLMS:
            return self.hdlc
        if family is Family.MBUS_DLMS:
            return self.mbus + self.apdu
        return self.kmp

    def best(self) -> tuple[Family, float] | None:
        """The family with the most evidence, if any reached a whole frame."""
        scores = [(self.score(f), i, f) for i, f in enumerate(Family)]
        score, _, family = max(scores, key=lambda s: (s[0], -s[1]))
        return (family, score) if score >= 1.0 else None

    def describe(self) -> str:
        parts = [f"{name} {value:g}" for name, value in (
            ("P1", self.dsmr), ("HDLC", self.hdlc), ("M-Bus", self.mbus),
            ("APDU", self.apdu), ("KMP", self.kmp)) if value]
        return ", ".join(parts) or "nothing"


def sniff_dsmr(data: bytes) -> float:
    score = 0.0
    for header in _P1_HEADER.finditer(data):
        # A telegram ends before the next "/", so each header's search stops there: the
        # bytes are searched once, not once per header.
        nxt = data.find(b"/", header.end())
        limit = nxt if nxt != -1 else len(data)
        end = _P1_END.search(data, header.end(), limit)
        body_end = end.start() if end is not None else limit
        lines = len(_P1_LINE.findall(data, header.end(), body_end))
        if lines >= 2 and end is not None:
            score += 1.0
        elif lines >= 2:
            score += 0.5
    if score == 0.0 and len(_P1_LINE.findall(data)) >= 3:
        score = 0.5  # the middle of a telegram: we joined late
    return score


def sniff_hdlc(data: bytes) -> float:
    score = 0.0
    i = data.find(0x7E)
    while i != -1 and i + 3 < len(data):
        fmt = data[i + 1]
        nxt = i + 1
        if fmt & 0xF0 == 0xA0:
            length = ((fmt & 0x07) << 8) | data[i + 2]
            close = i + 1 + length
            if length >= 7 and close < len(data):
                if data[close] == 0x7E and hdlc_fcs(data[i + 1:close - 2]) == (
                        data[close - 2] | (data[close - 1] << 8)):
                    score += 1.0
                    nxt = close  # the closing flag may open the next frame
            elif length >= 7 and close >= len(data):
                score += 0.5
                break
        i = data.find(0x7E, nxt)
    return score


def sniff_mbus(data: bytes) -> float:
    score = 0.0
    i = data.find(0x68)
    while i != -1 and i + 4 < len(data):
        nxt = i + 1
        length = data[i + 1]
        if data[i + 2] == length and data[i + 3] == 0x68 and length >= 3:
            end = i + 4 + length
            if end + 1 < len(data):
                if sum(data[i + 4:end]) & 0xFF == data[end] and data[end + 1] == 0x16:
                    score += 1.0
                    nxt = end + 2
            else:
                score += 0.5
                break
        i = data.find(0x68, nxt)
    return score


def sniff_apdu(data: bytes) -> float:
    """Raw DLMS APDUs: general-glo-ciphering (DB 08 <system title> <len> <SC>) or a plain
    data-notification (0F <invoke id x4> <date-time or 00> <structure/array>)."""
    score = 0.0
    i = data.find(0xDB)
    while i != -1 and i + 14 < len(data):
        if data[i + 1] == 0x08:
            length = data[i + 10]
            sc = i + 11 + (length - 0x80 if length > 0x80 else 0)
            if length != 0x80 and sc < len(data) and data[sc] in (0x10, 0x20, 0x30):
                score += 1.0
        i = data.find(0xDB, i + 1)
    i = data.find(0x0F)
    while i != -1 and i + 7 < len(data):
        if data[i + 5] in (0x00, 0x0C) and (data[i + 5] == 0x0C or data[i + 6] in (0x01, 0x02)):
            score += 0.5
            break
        i = data.find(0x0F, i + 1)
    return score


def _kmp_destuff(raw: bytes) -> bytes | None:
    out = bytearray()
    escape = False
    for byte in raw:
        if escape:
            out.append(byte ^ 0xFF)
            escape = False
        elif byte == 0x1B:
            escape = True
        else:
            out.append(byte)
    return None if escape else bytes(out)


def sniff_kmp(data: bytes) -> float:
    """KMP answers. Start and stop bytes are stuffed inside a frame, so the only frame a
    stop byte can end begins at the last start byte before it: each byte is looked at once."""
    score = 0.0
    after = 0
    end = data.find(0x0D)
    while end != -1:
        start = data.rfind(0x40, after, end)
        if start != -1 and end - start <= 256:
            body = _kmp_destuff(data[start + 1:end])
            if body is not None and len(body) >= 4 and kmp_crc(body) == 0:
                score += 1.0
        after = end + 1
        end = data.find(0x0D, after)
    return score


def sniff(data: bytes) -> Sniff:
    return Sniff(dsmr=sniff_dsmr(data), hdlc=sniff_hdlc(data), mbus=sniff_mbus(data),
                 apdu=sniff_apdu(data), kmp=sniff_kmp(data))
