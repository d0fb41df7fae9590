"""What a virtual meter is: identity, protocol, line settings, cadence, keys, and its wire side.

A profile is data plus two small factories: an encoder for push meters (a snapshot of the
meter's registers in, one frame of bytes out) or a responder for pull meters (request bytes
in, answer bytes out). The protocol families define their profiles next to this module
(profiles_dsmr.py, profiles_dlms.py, profiles_kmp.py); profiles.py collects them by name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, Protocol

from meter_protocols.line import LineSettings
from meter_protocols.readings import Interface, MeterIdentity, MeterProtocol
from meter_protocols.simulator.load import LoadParams
from meter_protocols.simulator.state import MeterSnapshot, TariffSchedule, swiss_double_tariff


@dataclass(frozen=True, slots=True)
class MeterKeys:
    """DLMS security material of a meter (hex strings as a user would type them)."""

    encryption_key: str = ""  # 32 hex digits; "" = frames are sent in clear
    authentication_key: str = ""  # 32 hex digits; "" = no authentication tag checked
    system_title: str = ""  # 16 hex digits
    invocation_counter: int = 1


class PushEncoder(Protocol):
    """Turns the meter's registers into one frame (a push meter's whole wire behaviour)."""

    def encode(self, snapshot: MeterSnapshot) -> bytes: ...


class Responder(Protocol):
    """The meter side of a pull protocol: answers the gateway's requests."""

    def receive(self, data: bytes, snapshot: Callable[[], MeterSnapshot]) -> bytes:
        """Feed bytes from the gateway; return what the meter sends back (may be b"").

        `snapshot()` advances the meter to now and returns its registers; call it only
        when a request that reads registers is complete.
        """
        ...


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    title: str
    source: str  # where its frame layout comes from
    protocol: MeterProtocol
    interface: Interface
    line: LineSettings
    interval: float  # seconds between pushes; for pull meters the gateway's poll cycle
    identity: MeterIdentity
    protocol_version: str = ""
    mode: Literal["push", "pull"] = "push"
    phases: int = 3
    load: LoadParams = field(default_factory=LoadParams)
    initial: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    keys: MeterKeys | None = None
    tariff_schedule: TariffSchedule = swiss_double_tariff
    clock_drift_s: float = 0.0
    encoder: Callable[[Profile], PushEncoder] | None = None
    responder: Callable[[Profile], Responder] | None = None
    notes: str = ""
    #: Meter settings an installer enters for this meter besides its keys (for example the
    #: scaler set a Landis+Gyr E570 needs); a virtual meter comes with them entered.
    installer: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
