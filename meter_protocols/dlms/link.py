"""What every link layer (HDLC, M-Bus, none) hands to the APDU layer."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

#: The largest APDU accepted after reassembly. Push frames of household meters are
#: 0.1-2 kB; GBT transfers of a full push list stay well below this.
MAX_APDU = 16384

#: LLC header in front of an APDU on HDLC (IEC 62056-46): destination LSAP 0xE6, source
#: LSAP 0xE7 (response) or 0xE6 (command), quality 0x00.
LLC_HEADERS = (b"\xe6\xe7\x00", b"\xe6\xe6\x00")


class Framing(StrEnum):
    """How APDUs are delimited on the line."""

    AUTO = "auto"  # find out from the bytes, then stay with what was found
    HDLC = "hdlc"  # IEC 62056-46 frames, 0x7E ... 0x7E
    MBUS = "mbus"  # EN 13757-2 long frames, 68 L L 68 ... 16, DLMS transport segments
    RAW = "raw"  # APDUs back to back, no link layer


@dataclass(frozen=True, slots=True)
class LinkMessage:
    """One complete link-layer message: the APDU bytes (LLC removed) and what it cost."""

    payload: bytes
    size: int  # bytes on the wire, all segments and their framing included
    segments: int = 1


def strip_llc(payload: bytes) -> bytes:
    if payload[:3] in LLC_HEADERS:
        return payload[3:]
    return payload
