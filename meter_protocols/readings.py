"""The one currency between the meter side and the device: what a meter frame said.

A decoder turns bytes into events: a `FrameDecoded` carrying a `MeterReading`, or a typed
`Problem`. Values in a reading are keyed by the OBIS short code C.D.E and are already in
base units (W, Wh, var, varh, VA, V, A; power factor unitless) with every scaler applied.
Reports (kW, kWh, ...) are derived from readings by emulator/device/report.py only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

_EMPTY: Mapping[str, Any] = MappingProxyType({})


class MeterProtocol(StrEnum):
    """The logical layer, as /api/v1/system names it."""

    DSMR = "DSMR"
    DLMS = "DLMS"
    KMP = "KMP"
    MEP = "MEP"
    MBUS = "MBUS"


class Interface(StrEnum):
    """The physical layer, as /api/v1/system names it."""

    NONE = "NONE"
    P1 = "P1"
    MBUS = "MBUS"
    TTL = "TTL"
    MEP = "MEP"


class ScalerSource(StrEnum):
    """Where the scaler applied to a COSEM register value came from."""

    METER = "meter"  # the meter sent its own scaler_unit
    DEFAULT = "default"  # built-in table by OBIS
    PLAUSIBILITY = "plausibility"  # default table corrected because the value was off by 10^n
    LGE570 = "lge570"  # predefined set for the Landis+Gyr E570
    CUSTOM = "custom"  # the user's list


@dataclass(frozen=True, slots=True)
class MeterIdentity:
    """Who the meter says it is. Empty strings where the meter does not say."""

    meter_id: str = ""
    logical_name: str = ""  # DSMR header identification / COSEM logical device name
    model: str = ""
    vendor: str = ""
    prefix: str = ""  # three-letter FLAG manufacturer id


@dataclass(frozen=True, slots=True)
class CosemObject:
    """One COSEM object of a DLMS frame, as /api/v1/report/objects shows it.

    `value` is the raw value before scaling: numbers as sent, octet strings hex-encoded,
    date-times as ISO 8601 local time. `extra` holds the class-specific fields
    (class 4: status, captured time; class 8: time_zone, status; class 40: push_object_list).
    """

    logical_name: str  # A-B:C.D.E
    class_id: int
    tag: int | None = None
    size: int | None = None
    value: int | float | str | None = None
    unit: int | None = None
    scaler: int | None = None
    scaler_source: ScalerSource | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True, slots=True)
class ObisLine:
    """One data line of a text telegram, kept whether or not a dialect table names it."""

    obis: str  # A-B:C.D.E as written
    values: tuple[str, ...]  # the bracketed groups, units included ("000004.426*kWh")
    name: str | None = None  # the dialect's name for it (dsmr-parser's value_name), if any


@dataclass(frozen=True, slots=True)
class MbusChannel:
    """A sub-meter on a DSMR M-Bus channel (gas, water, heat)."""

    bus: int
    device_type: int | None = None
    meter_id: str = ""
    captured_at: datetime | None = None  # aware
    value: float | None = None
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class MeterReading:
    """What one meter frame said."""

    protocol: MeterProtocol
    values: Mapping[str, float]  # OBIS C.D.E -> value in base units
    identity: MeterIdentity = field(default_factory=MeterIdentity)
    protocol_version: str = ""
    meter_time: datetime | None = None  # the meter's clock, timezone-aware
    tariff: int | None = None
    texts: Mapping[str, str] = field(default_factory=lambda: _EMPTY)  # C.D.E -> text values
    lines: tuple[ObisLine, ...] = ()  # text protocols: every line of the frame
    objects: tuple[CosemObject, ...] = ()  # DLMS: every COSEM object of the frame
    mbus: tuple[MbusChannel, ...] = ()
    #: The push layout the frame was recognised as (DLMS: "netznoe", "wienernetze-compact",
    #: "push-object-list", ...); empty where the protocol has only one layout.
    layout: str = ""

    @property
    def has_values(self) -> bool:
        """Whether the frame said any value a report shows (a register or a sub-meter)."""
        return bool(self.values) or any(ch.value is not None for ch in self.mbus)

    def get(self, short: str) -> float | None:
        return self.values.get(short)


class ProblemKind(StrEnum):
    """The kinds of bad input a decoder reports; each is counted and logged once per kind."""

    BAD_CRC = "bad_crc"  # DSMR CRC16, HDLC FCS, M-Bus checksum, KMP CRC
    TRUNCATED = "truncated"  # a frame that ended before its length said
    MALFORMED = "malformed"  # framing fine, content not parseable
    OVERSIZE = "oversize"  # more bytes than any frame may have; buffer dropped
    UNKNOWN_FORMAT = "unknown_format"  # bytes that fit no frame of this protocol
    KEY_REQUIRED = "key_required"  # ciphered frame, no key configured
    DECRYPTION_FAILED = "decryption_failed"  # key set but decryption/authentication failed
    SEGMENT_ERROR = "segment_error"  # missing, repeated or out-of-order segment
    NAK = "nak"  # the meter refused a request (pull protocols)
    TIMEOUT = "timeout"  # pull protocols: no answer in time
    #: A complete, valid frame that carries no value the device knows (a push layout read
    #: to the end with nothing to report): never a reading, since OK needs values.
    NO_KNOWN_VALUES = "no_known_values"
    #: a well-formed (so deciphered) frame whose layout the decoder does not know
    UNKNOWN_LAYOUT = "unknown_layout"
    #: The decoder itself failed on this input (a bug, caught at its boundary by
    #: meter_protocols.guard): the input was dropped and the decoder's partial state reset.
    DECODER_FAULT = "decoder_fault"


@dataclass(frozen=True, slots=True)
class Problem:
    """A typed problem found in the input. Never raised; returned from feed()."""

    kind: ProblemKind
    detail: str
    data: bytes = b""  # the offending bytes, at most a few hundred


@dataclass(frozen=True, slots=True)
class FrameDecoded:
    """A complete, valid frame and what it said."""

    reading: MeterReading
    size: int  # bytes on the wire for this frame


Event = FrameDecoded | Problem

#: At most this many bytes of offending input are kept in a Problem.
PROBLEM_DATA_LIMIT = 256


def problem(kind: ProblemKind, detail: str, data: bytes = b"") -> Problem:
    return Problem(kind, detail, bytes(data[:PROBLEM_DATA_LIMIT]))
