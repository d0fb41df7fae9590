"""The data-notification APDU (IEC 62056-5-3) and where APDUs end in a raw stream.

data-notification: tag 0x0F, long-invoke-id-and-priority (4 bytes), date-time (octet
string: a length byte, 0 when absent, usually 12), notification-body (one Data value).
Kaifa meters write the date-time as a tagged Data octet string (09 0C ...); both forms
are read.
"""

from __future__ import annotations

from dataclasses import dataclass

from meter_protocols.dlms import axdr, gbt, security
from meter_protocols.dlms.axdr import AxdrError, AxdrIncomplete, Data
from meter_protocols.dlms.link import LLC_HEADERS
from meter_protocols.errors import ProtocolError

DATA_NOTIFICATION = 0x0F
#: First bytes an APDU may start with in a raw stream.
APDU_STARTS = frozenset((DATA_NOTIFICATION, security.GLO_CIPHERING, security.DED_CIPHERING,
                         gbt.TAG, 0xE6))


@dataclass(frozen=True, slots=True)
class DataNotification:
    invoke_id: int  # long-invoke-id-and-priority as sent
    date_time: bytes  # the date-time octets (12, or b"" when absent)
    body: Data


def _date_time(apdu: bytes, pos: int) -> tuple[bytes, int]:
    if pos >= len(apdu):
        raise AxdrIncomplete("date-time expected")
    first = apdu[pos]
    if first == axdr.Tag.OCTET_STRING and apdu[pos + 1:pos + 2] == b"\x0c":
        pos += 1  # a tagged octet string, as Kaifa writes it
        first = 0x0C
    if first > 12:
        raise AxdrError(f"date-time of {first} bytes")
    end = pos + 1 + first
    if end > len(apdu):
        raise AxdrIncomplete("date-time cut off")
    return bytes(apdu[pos + 1:end]), end


def parse_notification(apdu: bytes) -> DataNotification:
    """Raises AxdrError (AxdrIncomplete when cut short, with nothing after it)."""
    if not apdu or apdu[0] != DATA_NOTIFICATION:
        raise AxdrError("not a data-notification")
    if len(apdu) < 6:
        raise AxdrIncomplete("data-notification header cut off")
    invoke_id = int.from_bytes(apdu[1:5], "big")
    stamp, pos = _date_time(apdu, 5)
    body, end = axdr.decode(apdu, pos)
    if end != len(apdu):
        raise AxdrError(f"{len(apdu) - end} bytes after the notification body")
    return DataNotification(invoke_id, stamp, body)


def build_notification(invoke_id: int, date_time: bytes, body: Data) -> bytes:
    if len(date_time) not in (0, 12):
        raise ProtocolError("a COSEM date-time has 12 bytes")
    return (bytes((DATA_NOTIFICATION,)) + invoke_id.to_bytes(4, "big")
            + bytes((len(date_time),)) + date_time + axdr.encode(body))


def apdu_length(buf: bytes | bytearray, pos: int = 0) -> int:
    """Length of the APDU (LLC header included) starting at buf[pos], for raw framing.

    Raises AxdrIncomplete when more bytes are needed and AxdrError when these bytes do not
    start an APDU we read.
    """
    at = pos
    if buf[at:at + 1] == b"\xe6":
        if len(buf) - at < 3:
            raise AxdrIncomplete("LLC header cut off")
        if bytes(buf[at:at + 3]) not in LLC_HEADERS:
            raise AxdrError("not an LLC header")
        at += 3
    if at >= len(buf):
        raise AxdrIncomplete("APDU expected")
    tag = buf[at]
    if tag in security.CIPHERED_TAGS:
        return at - pos + security.ciphered_length(buf, at)
    if tag == gbt.TAG:
        return at - pos + gbt.block_length(buf, at)
    if tag == DATA_NOTIFICATION:
        view = bytes(buf[at:])
        if len(view) < 6:
            raise AxdrIncomplete("data-notification header cut off")
        _, body_at = _date_time(view, 5)
        _, end = axdr.decode(view, body_at)
        return at - pos + end
    raise AxdrError(f"0x{tag:02X} starts no APDU a meter pushes")


def plausible_apdu(apdu: bytes) -> bool:
    """Whether these bytes are, beyond doubt, an APDU a meter pushed (auto framing).

    A raw stream has no check sequence, so a lone 0x0F in line noise must not be taken for
    a data-notification: the body has to fit a known push layout, a ciphered APDU needs a
    system title of 8 bytes and a suite-0 or suite-1 security control, a block transfer must
    begin.
    """
    from meter_protocols.dlms.cosem import extract  # noqa: PLC0415 - cosem needs no apdu

    if not apdu:
        return False
    try:
        if apdu[0] in security.CIPHERED_TAGS:
            envelope = security.parse_ciphered(apdu)
            sc = envelope.security_control
            return len(envelope.system_title) == 8 and sc & 0x30 != 0 and \
                sc & ~0x30 in security.SUITES
        if apdu[0] == gbt.TAG:
            block = gbt.parse_block(apdu)
            return block.number == 1 and bool(block.data)
        if apdu[0] == DATA_NOTIFICATION:
            body = parse_notification(apdu).body
            if isinstance(body.value, bytes) and body.value[:1] == b"/":
                return True
            return extract(body) is not None
    except AxdrError:
        return False
    return False
