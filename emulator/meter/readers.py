"""One interface over the decoders of every protocol family: push decoders are fed bytes,
pull pollers also say what to send. The supervisor builds one per detected candidate and
keeps it in step with the meter settings (keys, scalers) without a restart."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from emulator.device.settings.views import MeterSettings
from emulator.meter.settings import dlms_keys, scaler_config
from meter_protocols.detect import Family
from meter_protocols.dlms.decoder import DlmsDecoder
from meter_protocols.dsmr.decoder import DsmrDecoder
from meter_protocols.errors import ProtocolError
from meter_protocols.kmp.poller import KmpPoller
from meter_protocols.readings import Event


@dataclass(frozen=True, slots=True)
class Security:
    encrypted: bool
    authenticated: bool


class Reader:
    """A decoder or poller for one protocol family."""

    def __init__(self, family: Family, meter_settings: MeterSettings,
                 custom_scalers: Sequence[Mapping[str, Any]], zone: ZoneInfo,
                 now: float) -> None:
        self.family = family
        self.pull = family.pull
        self._dsmr: DsmrDecoder | None = None
        self._dlms: DlmsDecoder | None = None
        self._kmp: KmpPoller | None = None
        if family is Family.DSMR:
            self._dsmr = DsmrDecoder(zone)
        elif family in (Family.HDLC_DLMS, Family.MBUS_DLMS):
            self._dlms = DlmsDecoder(keys=dlms_keys(meter_settings),
                                     scalers=scaler_config(meter_settings, custom_scalers),
                                     zone=zone)
        elif family is Family.KMP:
            self._kmp = KmpPoller(zone=zone, start=now)
        else:  # pragma: no cover - detect offers only the families above
            raise ProtocolError(f"no reader for protocol family {family}")

    def feed(self, data: bytes, now: float) -> list[Event]:
        if self._kmp is not None:
            return list(self._kmp.feed(data, now))
        if self._dlms is not None:
            return self._dlms.feed(data)
        assert self._dsmr is not None
        return self._dsmr.feed(data)

    def poll(self, now: float) -> bytes:
        """What to send to the meter now (pull families), else b""."""
        return bytes(self._kmp.poll(now)) if self._kmp is not None else b""

    def pending(self) -> list[Event]:
        """Events found while polling (timeouts)."""
        return list(self._kmp.take_events()) if self._kmp is not None else []

    def deadline(self) -> float | None:
        return self._kmp.next_deadline() if self._kmp is not None else None

    @property
    def security(self) -> Security | None:
        if self._dlms is None:
            return None
        state = self._dlms.security
        return Security(state.encrypted, state.authenticated)

    def configure(self, meter_settings: MeterSettings,
                  custom_scalers: Sequence[Mapping[str, Any]]) -> None:
        """New keys or scalers take effect on the next frame."""
        if self._dlms is not None:
            self._dlms.set_keys(dlms_keys(meter_settings))
            config = scaler_config(meter_settings, custom_scalers)
            if config != self._dlms.scalers:
                self._dlms.set_scalers(config)
