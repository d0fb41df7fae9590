"""/api/v1/meter/scalers/custom: the user's scaler list (manual 6.5), a list section.

Validation is the DLMS package's: C.D.E with C and D 0..254 and E 0..255 (255: every E),
scalers -6..6.
"""

from __future__ import annotations

from typing import Any

from emulator.device.errors import SettingsError
from emulator.device.settings.fields import ListSchema
from meter_protocols.dlms.scalers import (
    ScalerConfigError,
    custom_scalers_json,
    parse_custom_scalers,
)


def _parse(body: list[Any]) -> list[Any]:
    try:
        entries = parse_custom_scalers(body)
    except ScalerConfigError as exc:
        raise SettingsError(str(exc)) from exc
    return list(custom_scalers_json(entries))


CUSTOM_SCALERS = ListSchema("scalers", _parse)
