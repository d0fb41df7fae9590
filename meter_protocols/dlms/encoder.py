"""Push frames as DLMS meters send them, for the virtual meters.

    snapshot -> body (PushLayout) -> data-notification -> [ciphering] -> [GBT blocks]
        -> HDLC frames (optionally segmented) | M-Bus long frames | nothing

`PushFrameEncoder` holds the meter-side counters: the invocation counter (incremented for
every ciphered APDU, as the security suite requires) and the invoke id.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final

from meter_protocols.dlms import apdu, axdr, cosem_time, gbt, hdlc, mbus, security
from meter_protocols.dlms.axdr import Data, Tag
from meter_protocols.dlms.link import LLC_HEADERS, Framing
from meter_protocols.dlms.security import DlmsKeys
from meter_protocols.errors import ProtocolError
from meter_protocols.obis import Obis
from meter_protocols.readings import MeterIdentity


class BodyStyle(StrEnum):
    """How the values of a push are laid out in the notification body."""

    PUSH_OBJECT_LIST = "push-object-list"  # {push_object_list, value, value, ...}
    OBIS_STRUCTURES = "obis-structures"  # [{ln, value, scaler_unit}, ...]
    FLAT = "flat"  # {ln, value, scaler_unit, ln, value, scaler_unit, ...}
    VALUES = "values"  # {value, value, ...}: a compact layout, no logical names at all


#: Where a push item's value comes from when it is not a register of the snapshot.
LOGICAL_NAME = "@logical_name"
METER_ID = "@meter_id"
MODEL = "@model"
CLOCK = "@clock"
TARIFF = "@tariff"
TARIFF_TEXT = "@tariff_text"
TEXT = "@text"  # the item's constant text

_UNSIGNED_MAX: Final[dict[int, int]] = {Tag.UINT8: 0xFF, Tag.UINT16: 0xFFFF, Tag.UINT32: 0xFFFFFFFF,
                        Tag.UINT64: 0xFFFFFFFFFFFFFFFF}
#: The largest finite float32 (what a float32 register saturates at).
_FLOAT32_MAX: Final = 3.4028234663852886e38
_SIGNED_BITS: Final[dict[int, int]] = {Tag.INT8: 8, Tag.INT16: 16, Tag.INT32: 32, Tag.INT64: 64}


@dataclass(frozen=True, slots=True)
class PushItem:
    """One value of a push: which object, how it is encoded, where its value comes from."""

    logical_name: Obis
    class_id: int
    tag: int
    source: str  # a C.D.E register of the snapshot, or one of the @ names above
    scaler: int = 0  # raw = value / 10**scaler
    unit: int | None = None  # sent in a scaler_unit when the layout sends them
    decimals: int | None = None  # floats: round the raw value to this many decimals
    text: str = ""
    width: int = 0  # octet strings: pad with NUL to this many bytes
    bare: bool = False  # FLAT style: the value alone, without its logical name (Netz NÖ)


@dataclass(frozen=True, slots=True)
class PushLayout:
    style: BodyStyle
    items: tuple[PushItem, ...]
    send_scaler_unit: bool = False
    push_setup: Obis = field(default_factory=lambda: Obis(0, 0, 25, 9, 0))
    root: int = Tag.ARRAY  # OBIS_STRUCTURES: the container around the structures


@dataclass(frozen=True, slots=True)
class FrameOptions:
    """The meter's wire: link layer, segmentation, block transfer, security."""

    framing: Framing = Framing.HDLC
    hdlc_dest: bytes = b"\x41"
    hdlc_src: bytes = b"\x08\x83"
    hdlc_control: int = 0x13  # UI frame, poll/final set
    hdlc_max_info: int = 0  # >0: segment messages longer than this
    llc: bool = True
    gbt_block_size: int = 0  # >0: send the APDU in general-block-transfer blocks
    mbus_segment_size: int = 245
    mbus_length_quirk: bool = False  # L written mod 256 (Sagemcom T210-D)
    security_control: int = 0  # 0: clear; 0x20 encrypted; 0x30 encrypted + authenticated;
    #                            0x21: suite 1, encrypted (TINETZ Kaifa)
    service: int = security.GLO_CIPHERING
    date_time_in_header: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "framing", Framing(self.framing))  # "hdlc" works too
        if self.framing is Framing.AUTO:
            raise ProtocolError("an encoder needs a concrete framing")


def _register(item: PushItem, value: float) -> Data:
    """A register's value as the meter sends it. Whatever the value, the register holds
    something: unsigned counters wrap (as real ones roll over), signed integers and floats
    saturate at the largest value their type holds, NaN is sent as 0."""
    raw = value / 10.0 ** item.scaler if math.isfinite(value) else value
    tag = item.tag
    if tag in (Tag.FLOAT32, Tag.FLOAT64):
        top = _FLOAT32_MAX if tag == Tag.FLOAT32 else sys.float_info.max
        raw = 0.0 if math.isnan(raw) else max(-top, min(top, raw))
        return axdr.number(tag, round(raw, item.decimals) if item.decimals is not None
                           else raw)
    if tag in _UNSIGNED_MAX:
        top = _UNSIGNED_MAX[tag]
        if not math.isfinite(raw):
            return axdr.number(tag, top if raw > 0 else 0)
        return axdr.number(tag, max(round(raw), 0) % (top + 1))  # a register wraps
    if tag in _SIGNED_BITS:
        half = 1 << (_SIGNED_BITS[tag] - 1)
        number = 0 if math.isnan(raw) else -half if raw < -half else \
            half - 1 if raw > half - 1 else round(raw)
        return axdr.number(tag, number)
    raise ProtocolError(f"tag {tag} is not a register type")


def _text(item: PushItem, text: str) -> Data:
    raw = text.encode("latin-1")
    if item.width:
        raw = raw[:item.width].ljust(item.width, b"\x00")
    if item.tag == Tag.VISIBLE_STRING:
        return axdr.visible(raw.decode("latin-1"))
    return axdr.octets(raw)


def item_value(item: PushItem, values: Mapping[str, float], identity: MeterIdentity,
               meter_time: datetime, tariff: int) -> Data:
    source = item.source
    if source == CLOCK:
        return axdr.octets(cosem_time.encode(meter_time))
    if source == TARIFF:
        return axdr.number(item.tag, tariff)
    texts = {LOGICAL_NAME: identity.logical_name, METER_ID: identity.meter_id,
             MODEL: identity.model, TARIFF_TEXT: f"RATE{tariff}", TEXT: item.text}
    if source in texts:
        return _text(item, texts[source])
    return _register(item, values.get(source, 0.0))


def build_body(layout: PushLayout, values: Mapping[str, float], identity: MeterIdentity,
               meter_time: datetime, tariff: int) -> Data:
    """The notification body of one push."""
    pairs = [(item, item_value(item, values, identity, meter_time, tariff))
             for item in layout.items]

    def scaler_unit(item: PushItem) -> list[Data]:
        if layout.send_scaler_unit and item.class_id == 3:
            return [axdr.scaler_unit(item.scaler, item.unit if item.unit is not None else 255)]
        return []

    if layout.style is BodyStyle.PUSH_OBJECT_LIST:
        entries = [(40, layout.push_setup, 2)] + [(i.class_id, i.logical_name, 2)
                                                  for i in layout.items]
        listing = axdr.array(*(
            axdr.structure(axdr.number(Tag.UINT16, class_id), axdr.octets(obis.to_bytes()),
                           axdr.number(Tag.INT8, attribute), axdr.number(Tag.UINT16, 0))
            for class_id, obis, attribute in entries
        ))
        return axdr.structure(listing, *(value for _, value in pairs))
    if layout.style is BodyStyle.OBIS_STRUCTURES:
        structures = [axdr.structure(axdr.octets(item.logical_name.to_bytes()), value,
                                     *scaler_unit(item))
                      for item, value in pairs]
        return axdr.structure(*structures) if layout.root == Tag.STRUCTURE \
            else axdr.array(*structures)
    if layout.style is BodyStyle.VALUES:
        return axdr.structure(*(value for _, value in pairs))
    flat: list[Data] = []
    for item, value in pairs:
        if item.bare:
            flat.append(value)
        else:
            flat += [axdr.octets(item.logical_name.to_bytes()), value, *scaler_unit(item)]
    return axdr.structure(*flat)


class PushFrameEncoder:
    """Body in, wire bytes out; keeps the invocation counter and the invoke id."""

    def __init__(self, options: FrameOptions, *, keys: DlmsKeys | None = None,
                 system_title: bytes = b"", invocation_counter: int = 1) -> None:
        self.options = options
        self.keys = keys or DlmsKeys()
        self.system_title = system_title
        self.invocation_counter = invocation_counter  # the next one to use
        self.invoke_id = 0
        if options.security_control:
            if len(system_title) != 8:
                raise ProtocolError("a ciphering meter needs an 8-byte system title")
            # Fail now, not at the first push, if a key is missing.
            security.encrypt(b"", system_title=system_title, invocation_counter=0,
                             security_control=options.security_control, keys=self.keys,
                             service=options.service)

    def apdu(self, body: Data, when: datetime | None) -> bytes:
        """The plain data-notification."""
        self.invoke_id = (self.invoke_id + 1) & 0xFFFFFF
        stamp = cosem_time.encode(when) if when is not None and \
            self.options.date_time_in_header else b""
        return apdu.build_notification(self.invoke_id, stamp, body)

    def protect(self, plain: bytes) -> bytes:
        options = self.options
        if not options.security_control:
            return plain
        counter = self.invocation_counter
        self.invocation_counter = (counter + 1) & 0xFFFFFFFF
        return security.encrypt(plain, system_title=self.system_title,
                                invocation_counter=counter,
                                security_control=options.security_control, keys=self.keys,
                                service=options.service)

    def encode(self, body: Data, when: datetime | None = None) -> bytes:
        """One push, as it goes on the wire."""
        message = self.protect(self.apdu(body, when))
        options = self.options
        if options.gbt_block_size:
            units = gbt.build_blocks(message, options.gbt_block_size)
        else:
            units = [message]
        return b"".join(self.link(unit) for unit in units)

    def link(self, payload: bytes) -> bytes:
        options = self.options
        if options.framing is Framing.HDLC:
            info = (LLC_HEADERS[0] + payload) if options.llc else payload
            return hdlc.build_frames(info, dest=options.hdlc_dest, src=options.hdlc_src,
                                     control=options.hdlc_control,
                                     max_info=options.hdlc_max_info)
        if options.framing is Framing.MBUS:
            return mbus.build_frames(payload, segment_size=options.mbus_segment_size,
                                     length_quirk=options.mbus_length_quirk)
        return payload
