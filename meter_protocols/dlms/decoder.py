"""DLMS/COSEM push decoder, sans-I/O: bytes in, MeterReading events out.

    link layer (HDLC / M-Bus / none)  ->  [GBT blocks]  ->  [general ciphering]
        ->  data-notification  ->  COSEM objects  ->  scalers  ->  MeterReading

`DlmsDecoder.feed(data)` returns `FrameDecoded` or `Problem` events; it never raises on bad
input and keeps bounded buffers. Keys and scalers can be changed while it runs
(`set_keys`, `set_scalers`). `security` tells what the last ciphered or plain APDU used
(the device shows it as meter.enc_en / meter.auth_en).

A ciphered APDU whose plaintext is a DSMR telegram (Luxembourg Smarty) is handed to the
DSMR decoder; its reading keeps protocol DSMR, because that is what the payload is and
what the device's report shows for such a meter.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from zoneinfo import ZoneInfo

from meter_protocols.dlms import apdu as apdu_mod
from meter_protocols.dlms import cosem, gbt, security, structured
from meter_protocols.dlms.axdr import AxdrError, Data, Tag
from meter_protocols.dlms.hdlc import HdlcAssembler, HdlcFrame, HdlcFramer
from meter_protocols.dlms.link import Framing, LinkMessage, strip_llc
from meter_protocols.dlms.link_problems import LOST_FRAME, broken, hdlc_segmented
from meter_protocols.dlms.mapping import ReadingBuilder
from meter_protocols.dlms.mbus import FIN_BIT, MbusAssembler, MbusFrame, MbusFramer
from meter_protocols.dlms.raw import RawFramer
from meter_protocols.dlms.scalers import ScalerConfig, ScalerResolver
from meter_protocols.dlms.security import DlmsKeys, SecurityState
from meter_protocols.dsmr.decoder import DsmrDecoder
from meter_protocols.guard import INPUT_FAULTS, fault
from meter_protocols.readings import (
    Event,
    FrameDecoded,
    MeterProtocol,
    Problem,
    ProblemKind,
    problem,
)

#: After this many problems in a row, auto framing lets go of what it found.
_AUTO_RELEASE = 8
#: Bytes kept while auto framing has not found a frame yet.
_AUTO_BUFFER = 4096
#: Raw APDUs kept while auto framing waits for a link framer to let go of a frame start.
_RAW_KEPT = 8
#: What the framers hand on.
_LinkItem = HdlcFrame | MbusFrame | LinkMessage | Problem


class DlmsDecoder:
    protocol = MeterProtocol.DLMS

    def __init__(self, *, keys: DlmsKeys | None = None, scalers: ScalerConfig | None = None,
                 zone: ZoneInfo | None = None, framing: Framing | str = Framing.AUTO) -> None:
        self.zone = zone or ZoneInfo("Europe/Zurich")
        self.framing = Framing(framing)
        self._keys = keys or DlmsKeys()
        self._resolver = ScalerResolver(scalers)
        self._builder = ReadingBuilder(self._resolver, self.zone)
        self._hdlc = HdlcFramer()
        self._hdlc_messages = HdlcAssembler()
        self._mbus = MbusFramer()
        self._mbus_messages = MbusAssembler()
        self._raw = RawFramer()
        self._gbt = gbt.GbtAssembler()
        self._dsmr = DsmrDecoder(self.zone)
        self._detected: Framing | None = None if self.framing is Framing.AUTO else self.framing
        self._failures = 0
        self._counters: Counter[ProblemKind] = Counter()
        self._raw_seen: list[_LinkItem] = []  # plausible raw APDUs waiting (auto framing)
        self._auto_dropped = 0
        self._gbt_wire = 0
        self.security = SecurityState()
        self.frames = 0  # readings produced
        #: The push layout the last notification was recognised as ("" when none fitted).
        self.layout = ""

    # -- settings that change on a running link -------------------------------------------

    @property
    def keys(self) -> DlmsKeys:
        return self._keys

    def set_keys(self, keys: DlmsKeys) -> None:
        self._keys = keys

    @property
    def scalers(self) -> ScalerConfig:
        return self._resolver.config

    def set_scalers(self, config: ScalerConfig) -> None:
        """New scalers_set or custom list; automatic decisions are made again."""
        self._resolver.set_config(config)

    # -- state -------------------------------------------------------------------------------

    @property
    def detected_framing(self) -> Framing | None:
        """The link layer in use (auto framing: None until a frame was recognised)."""
        return self._detected

    @property
    def counters(self) -> Mapping[ProblemKind, int]:
        """Problems seen since construction, by kind."""
        return MappingProxyType(dict(self._counters))

    @property
    def buffered(self) -> int:
        return self._hdlc.buffered + self._mbus.buffered + self._raw.buffered

    def reset(self) -> None:
        """Drop partial frames and what auto-detection and scaler detection learned."""
        for part in (self._hdlc, self._hdlc_messages, self._mbus, self._mbus_messages,
                     self._raw):
            part.reset()
        self._gbt.clear()
        self._resolver.reset()
        self._detected = None if self.framing is Framing.AUTO else self.framing
        self._failures = 0
        self._raw_seen = []
        self._auto_dropped = 0
        self.security = SecurityState()

    # -- bytes in -------------------------------------------------------------------------------

    def feed(self, data: bytes) -> list[Event]:
        try:
            return self._feed(data)
        except INPUT_FAULTS as exc:
            self._drop_partial()
            return self._account([fault(exc, "DLMS link", data[:64])])

    def _feed(self, data: bytes) -> list[Event]:
        if self._detected is None:
            found = self._detect(data)
            if found is None:
                return self._account(self._undetected(data))
            self._detected, items = found
            self._auto_dropped = 0
        elif self._detected is Framing.HDLC:
            items = self._hdlc.feed(data)
        elif self._detected is Framing.MBUS:
            items = self._mbus.feed(data)
        else:
            items = self._raw.feed(data)
        return self._account(self._feed_link(self._detected, items))

    def flush(self) -> list[Event]:
        """End of input: what is left becomes a problem (raw framing: decoded if complete)."""
        try:
            return self._flush()
        except INPUT_FAULTS as exc:
            self._drop_partial()
            return self._account([fault(exc, "DLMS link")])

    def _drop_partial(self) -> None:
        """After a fault: forget partial frames and messages, keep what was learned."""
        for part in (self._hdlc, self._hdlc_messages, self._mbus, self._mbus_messages,
                     self._raw):
            part.reset()
        self._gbt.clear()
        self._raw_seen = []

    def _flush(self) -> list[Event]:
        events: list[Event] = []
        if self._detected is Framing.HDLC:
            events += [e for e in self._hdlc.flush() if isinstance(e, Problem)]
        elif self._detected is Framing.MBUS:
            events += [e for e in self._mbus.flush() if isinstance(e, Problem)]
        elif self._detected is Framing.RAW:
            for item in self._raw.flush():
                events += self._message(item) if isinstance(item, LinkMessage) else [item]
        elif self.buffered:
            events.append(problem(ProblemKind.UNKNOWN_FORMAT,
                                  f"{self.buffered} bytes in no known framing"))
            self._drop_partial()
        return self._account(events)

    def _undetected(self, data: bytes) -> list[Event]:
        """Auto framing found nothing yet: report it once per _AUTO_BUFFER bytes."""
        self._auto_dropped += len(data)
        if self._auto_dropped < _AUTO_BUFFER:
            return []
        self._auto_dropped = 0
        return [problem(ProblemKind.UNKNOWN_FORMAT,
                        f"{_AUTO_BUFFER} bytes without a DLMS frame (HDLC, M-Bus or APDU)",
                        data[:64])]

    def _detect(self, data: bytes) -> tuple[Framing, Sequence[_LinkItem]] | None:
        """Auto framing: the first framer to find a complete, valid frame.

        The three framers all read the bytes (each in time linear in them). Link layers
        with a check sequence (HDLC, M-Bus) win first; raw APDUs only when neither link
        framer holds the start of a frame, and only an APDU beyond doubt one a meter pushed,
        since a ciphered APDU inside a damaged link frame would look like a raw one. The
        winner keeps its state and hands on what it found in these bytes (earlier damaged
        frames too, so they are reported); the others are reset.
        """
        hdlc_items = self._hdlc.feed(data)
        mbus_items = self._mbus.feed(data)
        raw_items = self._raw.feed(data)
        found: tuple[Framing, Sequence[_LinkItem]] | None = None
        if any(isinstance(item, HdlcFrame) for item in hdlc_items):
            found = Framing.HDLC, hdlc_items
        elif any(isinstance(item, MbusFrame) for item in mbus_items):
            found = Framing.MBUS, mbus_items
        else:
            plausible = [isinstance(item, LinkMessage)
                         and apdu_mod.plausible_apdu(strip_llc(item.payload))
                         for item in raw_items]
            if self._raw_seen or any(plausible):
                first = plausible.index(True) if not self._raw_seen else 0
                self._raw_seen = (self._raw_seen + raw_items[first:])[:_RAW_KEPT]
            if self._raw_seen and not self._hdlc.buffered and not self._mbus.buffered:
                found, self._raw_seen = (Framing.RAW, self._raw_seen), []
        if found is not None:
            self._raw_seen = []
            for framing, part in ((Framing.HDLC, self._hdlc), (Framing.MBUS, self._mbus),
                                  (Framing.RAW, self._raw)):
                if framing is not found[0]:
                    part.reset()
        return found

    def _feed_link(self, framing: Framing, items: Sequence[_LinkItem]) -> list[Event]:
        events: list[Event] = []
        if framing is Framing.HDLC:
            for frame in items:
                if isinstance(frame, HdlcFrame):
                    for message in self._hdlc_messages.push(frame):
                        events += self._message(message) if isinstance(message, LinkMessage) \
                            else [message]
                elif isinstance(frame, Problem):
                    if frame.kind in LOST_FRAME:
                        self._hdlc_messages.lost(segmented=hdlc_segmented(frame.data))
                    events.append(frame)
        elif framing is Framing.MBUS:
            for mframe in items:
                if isinstance(mframe, MbusFrame):
                    for message in self._mbus_messages.push(mframe):
                        events += self._message(message) if isinstance(message, LinkMessage) \
                            else [message]
                elif isinstance(mframe, Problem):
                    if mframe.kind in LOST_FRAME:
                        last = bool(mframe.data[6] & FIN_BIT) if len(mframe.data) > 6 \
                            and mframe.data[:1] == b"\x68" else None
                        self._mbus_messages.lost(last=last)
                    events.append(mframe)
        else:
            for item in items:
                if isinstance(item, LinkMessage):
                    events += self._message(item)
                elif isinstance(item, Problem):
                    events.append(item)
        return events

    def _account(self, events: list[Event]) -> list[Event]:
        for event in events:
            if isinstance(event, Problem):
                self._counters[event.kind] += 1
                self._failures += 1
            else:
                self._failures = 0
                self.frames += 1
        if self.framing is Framing.AUTO and self._failures >= _AUTO_RELEASE:
            self._detected = None  # lost the line: look again
            self._failures = 0
            for part in (self._hdlc, self._hdlc_messages, self._mbus, self._mbus_messages,
                         self._raw):
                part.reset()
            self._gbt.clear()
        return events

    # -- APDUs ------------------------------------------------------------------------------------

    def _message(self, message: LinkMessage) -> list[Event]:
        payload = strip_llc(message.payload)
        if not payload:
            return []
        try:
            if payload[0] == gbt.TAG:
                return self._block(payload, message)
            return self.decode_apdu(payload, size=message.size, segments=message.segments)
        except INPUT_FAULTS as exc:
            self._gbt.clear()
            return [fault(exc, "DLMS APDU", payload[:64])]

    def _block(self, payload: bytes, message: LinkMessage) -> list[Event]:
        try:
            block = gbt.parse_block(payload)
        except AxdrError as exc:
            return [problem(ProblemKind.MALFORMED, f"general-block-transfer: {exc}", payload)]
        if block.number == 1:
            self._gbt_wire = 0
        self._gbt_wire += message.size
        events: list[Event] = []
        for item in self._gbt.push(block):
            if isinstance(item, bytes):
                events += self.decode_apdu(item, size=self._gbt_wire,
                                           segments=self._gbt.blocks)
            else:
                events.append(item)
        return events

    def decode_apdu(self, apdu: bytes, *, size: int | None = None,
                    segments: int = 1) -> list[Event]:
        """Decode one complete APDU (link layer already removed)."""
        wire = size if size is not None else len(apdu)
        if not apdu:  # an empty GBT transfer
            return [problem(ProblemKind.MALFORMED, "empty APDU")]
        ciphered = bool(apdu) and apdu[0] in security.CIPHERED_TAGS
        verified = False
        if ciphered:
            try:
                envelope = security.parse_ciphered(apdu)
            except AxdrError as exc:
                return [broken(exc, apdu, segments, "ciphered APDU")]
            self.security = SecurityState(True, envelope.encrypted, envelope.authenticated,
                                          False, envelope.security_control,
                                          envelope.system_title, envelope.invocation_counter)
            try:
                apdu, verified = security.decrypt(envelope, self._keys)
            except security.KeyRequiredError as exc:
                return [problem(ProblemKind.KEY_REQUIRED, str(exc), apdu[:32])]
            except security.DecryptionError as exc:
                return [problem(ProblemKind.DECRYPTION_FAILED, str(exc), apdu[:32])]
            except security.SecurityError as exc:
                return [problem(ProblemKind.MALFORMED, str(exc), apdu[:32])]
            if verified:
                self.security = SecurityState(True, envelope.encrypted, envelope.authenticated,
                                              True, envelope.security_control,
                                              envelope.system_title,
                                              envelope.invocation_counter)
            if not apdu:  # security header and tag, nothing inside
                return [problem(ProblemKind.MALFORMED, "ciphered APDU without content",
                                envelope.system_title)]
        elif apdu[:1] == bytes((apdu_mod.DATA_NOTIFICATION,)):
            self.security = SecurityState()
        unchecked = ciphered and self.security.encrypted and not verified
        if apdu[:1] == b"/":
            return self._dsmr_inside(apdu, wire, unchecked)
        if apdu[:1] != bytes((apdu_mod.DATA_NOTIFICATION,)) and not unchecked:
            return [problem(ProblemKind.UNKNOWN_FORMAT,
                            f"APDU 0x{apdu[0]:02X} is not a push this decoder reads", apdu[:64])]
        fast = structured.read(apdu)
        if fast is not None:  # the commonest push, read from its bytes (structured.py)
            return self._content(cosem.named_items(fast[1]), fast[0], apdu, wire)
        try:
            notification = apdu_mod.parse_notification(apdu)
        except AxdrError as exc:
            if unchecked:
                return [problem(ProblemKind.DECRYPTION_FAILED,
                                f"plaintext is not a valid APDU ({exc}): wrong key?", apdu[:32])]
            return [broken(exc, apdu, segments, "data-notification")]
        body = notification.body
        if body.tag == Tag.OCTET_STRING and isinstance(body.value, bytes) \
                and body.value[:1] == b"/":
            return self._dsmr_inside(body.value, wire, False)
        return self._content(body, notification.date_time, apdu, wire)

    def _content(self, body: Data | cosem.PushContent | None, header_time: bytes, apdu: bytes,
                 wire: int) -> list[Event]:
        """A well-formed notification (so the key, if any, is right): its layout and values
        (`body`: the notification body, or its content already read).

        A body that fits no layout, or one that carries no value, is a problem that names
        the first bytes of the plaintext, so a user can report the layout.
        """
        content = cosem.extract(body) if isinstance(body, Data) else body
        if content is None:
            self.layout = ""
            return [problem(ProblemKind.UNKNOWN_LAYOUT,
                            f"notification body fits no known push layout "
                            f"({cosem.outline(body) if isinstance(body, Data) else 'no'}; "
                            f"plaintext {apdu[:24].hex(' ')})", apdu[:64])]
        self.layout = content.layout
        reading = self._builder.build(content, header_time, self.security.system_title)
        if not reading.has_values:
            return [problem(ProblemKind.NO_KNOWN_VALUES,
                            f"push layout {content.layout} carries no value the device knows "
                            f"({len(reading.objects)} objects; plaintext "
                            f"{apdu[:24].hex(' ')})", apdu[:64])]
        return [FrameDecoded(reading, wire)]

    def _dsmr_inside(self, text: bytes, wire: int, unchecked: bool) -> list[Event]:
        event = self._dsmr.decode_telegram(text)
        if isinstance(event, FrameDecoded):
            return [FrameDecoded(event.reading, wire)]
        if unchecked:
            return [problem(ProblemKind.DECRYPTION_FAILED,
                            f"decrypted telegram is not valid ({event.detail}): wrong key?",
                            text[:32])]
        return [event]
