"""/api/v1/meter/scalers/custom: the user's scaler list (manual 6.5), stored as a section.

The endpoint takes and returns a JSON array; it is kept as {"scalers": [...]} so it lives
in the same atomic store as every other section. Validation is the DLMS package's: C.D.E
with C and D 0..254 and E 0..255 (255: every E), scalers -6..6.
"""

from __future__ import annotations

from typing import Any

from emulator.device.errors import SettingsError
from emulator.device.settings.fields import Json
from meter_protocols.dlms.scalers import (
    ScalerConfigError,
    custom_scalers_json,
    parse_custom_scalers,
)


class CustomScalersSchema:
    """The list endpoint's schema: POST replaces the whole list (there is no PUT)."""

    def defaults(self) -> Json:
        return {"scalers": []}

    def replace(self, body: Any) -> Json:
        try:
            entries = parse_custom_scalers(body)
        except ScalerConfigError as exc:
            raise SettingsError(str(exc)) from exc
        return {"scalers": custom_scalers_json(entries)}

    def merge(self, current: Json, body: Any) -> Json:
        return self.replace(body)

    def public(self, data: Json) -> Json:
        return {"scalers": list(data.get("scalers", []))}

    def complete(self, stored: Json) -> Json:
        try:
            return self.replace(stored.get("scalers", []))
        except SettingsError:
            return self.defaults()


CUSTOM_SCALERS = CustomScalersSchema()
