"""The device's settings: current values per endpoint, persisted, with change listeners.

Services do not read each other's state; they subscribe here and the core tells them
when their settings change (DESIGN.md: the core announces settings changes).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping
from typing import Any

from emulator.device.settings.fields import Json, SectionSchema
from emulator.device.settings.store import SettingsStore

_LOG = logging.getLogger(__name__)

Listener = Callable[[Json, Json], None]  # (new, old), both full (secrets included)


class DeviceSettings:
    def __init__(self, store: SettingsStore, schemas: Mapping[str, SectionSchema]) -> None:
        self.store = store
        self.schemas = dict(schemas)
        self._values: dict[str, Json] = {}
        self._listeners: dict[str, list[Listener]] = {name: [] for name in schemas}
        for name, schema in self.schemas.items():
            stored = store.load(name)
            self._values[name] = schema.defaults() if stored is None else schema.complete(stored)

    def get(self, section: str) -> Json:
        """The full current values (secrets included). Treat as read-only."""
        return self._values[section]

    def public(self, section: str) -> Json:
        return self.schemas[section].public(self._values[section])

    def post(self, section: str, body: Any) -> Json:
        return self._apply(section, self.schemas[section].replace(body))

    def put(self, section: str, body: Any) -> Json:
        current = copy.deepcopy(self._values[section])
        return self._apply(section, self.schemas[section].merge(current, body))

    def reset(self, section: str) -> Json:
        """DELETE, where an endpoint has it: back to factory values."""
        self.store.remove(section)
        return self._set(section, self.schemas[section].defaults())

    def factory_reset(self) -> None:
        self.store.clear()
        for name, schema in self.schemas.items():
            self._set(name, schema.defaults())

    def subscribe(self, section: str, listener: Listener) -> Callable[[], None]:
        self._listeners[section].append(listener)
        return lambda: self._listeners[section].remove(listener)

    def _apply(self, section: str, new: Json) -> Json:
        self.store.save(section, new)
        return self._set(section, new)

    def _set(self, section: str, new: Json) -> Json:
        old = self._values[section]
        self._values[section] = new
        if new != old:
            for listener in list(self._listeners[section]):
                try:
                    listener(new, old)
                except Exception:  # noqa: BLE001 - a broken listener must not undo a stored setting
                    _LOG.exception("settings listener for %s failed", section)
        return self.public(section)
