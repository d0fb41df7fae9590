"""The device's settings: current values per endpoint, persisted, with change listeners.

Services do not read each other's state; they subscribe here and the core tells them
when their settings change (DESIGN.md: the core announces settings changes). A guard can
veto a change that the current state of the device forbids (power save while Ethernet is
up) before anything is stored.

A section without a file is at its first start: it takes its `initial` values (a new
emulated device comes already set up, e.g. joined to its simulated home Wi-Fi). A reset
(DELETE, factory reset) writes the factory values, so it is not undone at the next start.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable, Mapping
from typing import Any

from emulator.device.actions_model import ActionsDefinition
from emulator.device.faces.modbus_map import ModbusMap
from emulator.device.settings import sections
from emulator.device.settings.fields import Json, SectionSchema
from emulator.device.settings.mqtt import MqttSettings
from emulator.device.settings.store import SettingsStore
from emulator.device.settings.views import (
    MeterSettings,
    ServicesSettings,
    SystemSettings,
    modbus_map_view,
    services_view,
    system_view,
)

_LOG = logging.getLogger(__name__)

Listener = Callable[[Json, Json], None]  # (new, old), both full (secrets included)
Guard = Callable[[Json, Json], None]  # (new, old); raises SettingsError to refuse


class DeviceSettings:
    def __init__(self, store: SettingsStore, schemas: Mapping[str, SectionSchema],
                 initial: Mapping[str, Json] | None = None) -> None:
        self.store = store
        self.schemas = dict(schemas)
        self._values: dict[str, Json] = {}
        self._listeners: dict[str, list[Listener]] = {name: [] for name in schemas}
        self._guards: dict[str, list[Guard]] = {name: [] for name in schemas}
        self._views: dict[tuple[str, str], tuple[Json, Any]] = {}
        self._write_lock: asyncio.Lock | None = None
        store.remove_stale_temporaries()
        for name, schema in self.schemas.items():
            stored = store.load(name)
            if stored is not None:
                self._values[name] = schema.complete(stored)
            elif initial and name in initial:
                self._values[name] = schema.replace(initial[name])
            else:
                self._values[name] = schema.defaults()

    def get(self, section: str) -> Json:
        """The full current values (secrets included). Treat as read-only."""
        return self._values[section]

    # --- typed views ------------------------------------------------------------------------

    def _view(self, section: str, name: str, build: Callable[[Json], Any]) -> Any:
        values = self._values[section]
        cached = self._views.get((section, name))
        if cached is not None and cached[0] is values:
            return cached[1]
        view = build(values)
        self._views[(section, name)] = (values, view)
        return view

    @property
    def meter(self) -> MeterSettings:
        view: MeterSettings = self._view(sections.METER, "meter", MeterSettings.from_json)
        return view

    @property
    def system(self) -> SystemSettings:
        view: SystemSettings = self._view(sections.SYSTEM, "system", system_view)
        return view

    @property
    def services(self) -> ServicesSettings:
        view: ServicesSettings = self._view(sections.SYSTEM, "services", services_view)
        return view

    @property
    def mqtt(self) -> MqttSettings:
        view: MqttSettings = self._view(sections.MQTT, "mqtt", MqttSettings.from_json)
        return view

    @property
    def actions(self) -> ActionsDefinition | None:
        """The actions definition (/api/v1/actions), None when none is defined."""
        view: ActionsDefinition | None = self._view(
            sections.ACTIONS, "actions",
            lambda data: None if data.get("definition") is None
            else ActionsDefinition.from_json(data["definition"]))
        return view

    @property
    def modbus_map(self) -> ModbusMap:
        view: ModbusMap = self._view(sections.MODBUS, "modbus_map", modbus_map_view)
        return view

    @property
    def custom_scalers(self) -> list[dict[str, Any]]:
        return list(self._values[sections.SCALERS].get("scalers", []))

    # --- reading and writing ----------------------------------------------------------------

    def public(self, section: str) -> Json:
        return self.schemas[section].public(self._values[section])

    def post(self, section: str, body: Any) -> Json:
        return self._apply(section, self.schemas[section].replace(body))

    def put(self, section: str, body: Any) -> Json:
        current = copy.deepcopy(self._values[section])
        return self._apply(section, self.schemas[section].merge(current, body))

    def reset(self, section: str) -> Json:
        """DELETE, where an endpoint has it: back to factory values."""
        defaults = self.schemas[section].defaults()
        self.store.save(section, defaults)
        return self._set(section, defaults)

    def factory_reset(self) -> None:
        """Every section back to its factory values. Each file is replaced atomically, so a
        power cut in the middle leaves every section either as it was or at factory values."""
        for name, schema in self.schemas.items():
            defaults = schema.defaults()
            self.store.save(name, defaults)
            self._set(name, defaults)

    # The same writes from the event loop: validation and listeners run on the loop, the
    # atomic file write (fsync) runs in a thread, one write at a time so that a PUT merges
    # into what the previous write stored.

    async def apost(self, section: str, body: Any) -> Json:
        async with self._lock():
            return await self._aapply(section, self.schemas[section].replace(body))

    async def aput(self, section: str, body: Any) -> Json:
        async with self._lock():
            current = copy.deepcopy(self._values[section])
            return await self._aapply(section, self.schemas[section].merge(current, body))

    async def areset(self, section: str) -> Json:
        async with self._lock():
            defaults = self.schemas[section].defaults()
            await asyncio.to_thread(self.store.save, section, defaults)
            return self._set(section, defaults)

    async def afactory_reset(self) -> None:
        async with self._lock():
            for name, schema in self.schemas.items():
                defaults = schema.defaults()
                await asyncio.to_thread(self.store.save, name, defaults)
                self._set(name, defaults)

    def _lock(self) -> asyncio.Lock:
        if self._write_lock is None:
            self._write_lock = asyncio.Lock()
        return self._write_lock

    async def _aapply(self, section: str, new: Json) -> Json:
        old = self._values[section]
        for guard in list(self._guards[section]):
            guard(new, old)
        await asyncio.to_thread(self.store.save, section, new)
        return self._set(section, new)

    def subscribe(self, section: str, listener: Listener) -> Callable[[], None]:
        self._listeners[section].append(listener)
        return lambda: self._listeners[section].remove(listener)

    def add_guard(self, section: str, guard: Guard) -> Callable[[], None]:
        """`guard(new, old)` runs before a POST or PUT is stored and may refuse it by
        raising SettingsError; returns a function that removes the guard."""
        self._guards[section].append(guard)
        return lambda: self._guards[section].remove(guard)

    def _apply(self, section: str, new: Json) -> Json:
        old = self._values[section]
        for guard in list(self._guards[section]):
            guard(new, old)
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
