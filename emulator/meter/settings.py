"""The meter settings, as the pure meter side takes them: the detector's configuration, the
DLMS keys and the scalers. Built here, at the edge, from the typed settings view, so that
meter_protocols never reads a REST key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from emulator.device.settings.views import MeterSettings
from meter_protocols.detect import DetectConfig, IfMode, IfType, ProtocolChoice
from meter_protocols.dlms.scalers import ScalerConfig, ScalersSet, parse_custom_scalers
from meter_protocols.dlms.security import DlmsKeys
from meter_protocols.errors import ProtocolError
from meter_protocols.line import LineSettings, Parity


def detect_config(meter: MeterSettings) -> DetectConfig:
    """The detector's configuration; ProtocolError if the settings describe no line (they
    are validated on write, so only a foreign settings file can do that)."""
    try:
        return DetectConfig(
            auto_baudrate=meter.auto_baudrate,
            if_type=IfType(meter.if_type),
            protocol=ProtocolChoice(meter.protocol),
            if_mode=IfMode(meter.if_mode),
            baudrate=meter.baudrate,
            parity=Parity(meter.parity),
            stop_bits=float(meter.stop_bits),
            rx_invert=meter.rx_invert,
        )
    except ValueError as exc:
        raise ProtocolError(f"meter settings do not describe a line: {exc}") from exc


def fixed_settings(meter: MeterSettings) -> LineSettings:
    """The line settings /api/v1/meter/settings asks for when auto_baudrate is off."""
    return detect_config(meter).fixed_line()


def dlms_keys(meter: MeterSettings) -> DlmsKeys:
    return DlmsKeys.from_hex(meter.encryption_key, meter.authentication_key)


def scaler_config(meter: MeterSettings, custom: Sequence[Mapping[str, Any]]) -> ScalerConfig:
    try:
        entries = parse_custom_scalers(list(custom))
    except ProtocolError:
        entries = ()
    return ScalerConfig(ScalersSet(meter.scalers_set), entries)
