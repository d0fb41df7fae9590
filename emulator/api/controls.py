"""What the control API can do, as actions shared by its routes and by scenarios.

Each action takes the application and a JSON object (the body of its POST route, or the
rest of a scenario step) and returns the JSON its route answers. `check` validates a body
without changing anything, so a scenario is refused whole (400) before it starts when one
of its steps could never run. A change with `duration_s` reverts itself after that much
device time (control_timers). `NothingToSteer` is a 404: the part is absent (a real meter
has no virtual-meter controls; a device built without the composition root has no board).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from aiohttp import web

from emulator.api.common import DEVICE
from emulator.api.control_timers import TIMERS, check_duration
from emulator.api.faults import FAULTS_TABLE, parse_fault
from emulator.device.clock import VirtualClock
from emulator.device.core import Device
from emulator.device.errors import SettingsError
from emulator.device.ports import DeviceEvents, MeterControl
from emulator.device.settings import sections

#: The clock a device can be set to (its RTC and NTP): anything else is refused, unchanged.
EARLIEST: Final = datetime(2000, 1, 1, tzinfo=UTC)
LATEST: Final = datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC)

LICENSES: Final = ("FREE", "PLUS", "PRO")
DEVICE_EVENTS: Final = ("reboot", "power_cut", "brownout")
#: The longest manual-clock advance one request may ask for (its work grows with it).
MAX_ADVANCE_S: Final = 86400.0
ADVANCE_LOCK: Final = web.AppKey("advance_lock", asyncio.Lock)


class NothingToSteer(Exception):
    """The part an action steers is absent: the route answers 404."""


Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Action:
    run: Callable[[web.Application, Json], Awaitable[Any]]
    check: Callable[[web.Application, Json], None]


def _object(body: Any) -> Json:
    if not isinstance(body, dict):
        raise SettingsError("body: expected a JSON object")
    return body


def iso(when: float) -> str:
    return datetime.fromtimestamp(when).astimezone().isoformat(timespec="milliseconds")


def clock_mode(device: Device) -> str:
    if isinstance(device.clock, VirtualClock):
        return "manual"
    return "real" if device.clock.speed == 1 else "scaled"


def clock_state(device: Device) -> Json:
    return {"time": iso(device.clock.time()), "speed": device.clock.speed,
            "mode": clock_mode(device)}


# --- the virtual meter --------------------------------------------------------------------

def _meter_control(app: web.Application) -> MeterControl:
    control = app[DEVICE].ports.meter_control
    if control is None:
        raise NothingToSteer("the meter is not a virtual one: nothing to steer")
    return control


def _meter_changes(body: Json) -> Json:
    return {key: value for key, value in body.items() if key != "duration_s"}


def check_meter(app: web.Application, body: Json) -> None:
    check_duration(_object(body))
    _meter_control(app).undo(_meter_changes(body))


async def run_meter(app: web.Application, body: Json) -> Any:
    duration = check_duration(_object(body))
    control = _meter_control(app)
    changes = _meter_changes(body)
    undo = control.undo(changes)
    state = control.apply(changes)
    if duration is not None and undo:
        app[TIMERS].after(duration, lambda: control.apply(undo), "meter change")
    return state


# --- the clock ----------------------------------------------------------------------------

def _clock_change(app: web.Application, body: Json) -> tuple[str, float]:
    _object(body)
    if "advance_s" in body:
        value = body["advance_s"]
        if isinstance(value, bool) or not isinstance(value, int | float) or \
                not 0 <= value <= MAX_ADVANCE_S:
            raise SettingsError(f"advance_s: expected seconds 0..{MAX_ADVANCE_S:g}")
        if not isinstance(app[DEVICE].clock, VirtualClock):
            raise SettingsError("advance_s: only a manual clock is advanced by hand "
                                "(start with --clock manual); set the time with \"time\"")
        return "advance", float(value)
    text = body.get("time")
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError as exc:
        raise SettingsError(f"time: expected ISO 8601, got {text!r}") from exc
    if moment.tzinfo is None:
        raise SettingsError("time: give the time zone, e.g. 2025-01-22T11:54:00+01:00")
    if not EARLIEST <= moment <= LATEST:
        raise SettingsError(f"time: must lie between {EARLIEST.date()} and {LATEST.date()}, "
                            f"as a device's clock does")
    return "set", moment.timestamp()


def check_clock(app: web.Application, body: Json) -> None:
    _clock_change(app, body)


async def run_clock(app: web.Application, body: Json) -> Any:
    kind, value = _clock_change(app, body)
    device = app[DEVICE]
    clock = device.clock
    if kind == "advance" and isinstance(clock, VirtualClock):
        async with app[ADVANCE_LOCK]:
            await clock.advance(value)
    else:
        clock.set_time(value)
    return clock_state(device)


# --- HTTP faults --------------------------------------------------------------------------

def check_fault(app: web.Application, body: Json) -> None:
    check_duration(_object(body))
    parse_fault(body, "check")


async def run_fault(app: web.Application, body: Json) -> Any:
    duration = check_duration(_object(body))
    table = app[FAULTS_TABLE]
    fault = parse_fault(body, table.new_id())
    if duration is not None:
        fault_id = fault.id
        expires = app[TIMERS].after(duration, lambda: table.remove(fault_id),
                                    f"fault {fault_id}")
        fault = dataclasses.replace(fault, duration_s=duration, expires=expires)
    table.add(fault)
    return fault.to_json()


def check_nothing(app: web.Application, body: Json) -> None:
    _object(body)


async def run_check(app: web.Application, body: Json) -> Any:
    """A scenario's checkpoint: changes nothing (its step carries an `expect`)."""
    return None


async def run_clear_faults(app: web.Application, body: Json) -> Any:
    app[FAULTS_TABLE].clear()
    return []


# --- the board: reboot, power cut, brownout, services ---------------------------------------

def _events(app: web.Application) -> DeviceEvents:
    events = app[DEVICE].ports.device_events
    if events is None:
        raise NothingToSteer("this device has no board to steer (built without the app)")
    return events


def check_device(app: web.Application, body: Json) -> None:
    event = _object(body).get("event")
    if event not in DEVICE_EVENTS:
        raise SettingsError(f"event: expected one of {', '.join(DEVICE_EVENTS)}")
    duration = check_duration(body)
    if event != "brownout" and duration is not None:
        raise SettingsError("duration_s: only a brownout lasts")


async def run_device(app: web.Application, body: Json) -> Any:
    check_device(app, body)
    event = body["event"]
    device = app[DEVICE]
    if event == "reboot":
        device.request_reboot("control API")
    elif event == "power_cut":
        _events(app).power_cut()
    else:
        _events(app).brownout(check_duration(body) or 5.0)
    return {"event": event, "accepted": True}


def check_service(app: web.Application, body: Json) -> None:
    name, running = _object(body).get("name"), body.get("running")
    check_duration(body)
    if not isinstance(running, bool):
        raise SettingsError("running: expected true or false")
    names = _events(app).service_names()
    if name not in names:
        raise SettingsError(f"name: expected one of {', '.join(names)}")


async def run_service(app: web.Application, body: Json) -> Any:
    check_service(app, body)
    events, name, running = _events(app), body["name"], body["running"]
    await events.set_service_running(name, running)
    duration = check_duration(body)
    if duration is not None:
        app[TIMERS].after(duration, lambda: events.set_service_running(name, not running),
                          f"service {name}")
    return services_state(app[DEVICE])


def services_state(device: Device) -> Json:
    return {name: status.to_json() for name, status in device.services.all().items()}


# --- licence and protection ---------------------------------------------------------------

def _license(body: Json) -> str:
    value = _object(body).get("license")
    if not isinstance(value, str) or value.upper() not in LICENSES:
        raise SettingsError(f"license: expected one of {', '.join(LICENSES)}")
    check_duration(body)
    return value.upper()


def check_license(app: web.Application, body: Json) -> None:
    _license(body)


async def run_license(app: web.Application, body: Json) -> Any:
    device, wanted = app[DEVICE], _license(body)
    before, device.license_type = device.license_type, wanted
    device.log.info("licence now %s (was %s)", wanted, before)
    duration = check_duration(body)
    if duration is not None:
        app[TIMERS].after(duration, lambda: setattr(device, "license_type", before),
                          "licence")
    return {"license": device.license_type}


def _protection(body: Json) -> tuple[bool, str | None]:
    enabled, password = _object(body).get("enabled"), body.get("password")
    if not isinstance(enabled, bool):
        raise SettingsError("enabled: expected true or false")
    if password is not None and not isinstance(password, str):
        raise SettingsError("password: expected text")
    if enabled and not password:
        raise SettingsError("password: protection needs a password (1..31 characters)")
    return enabled, password


def check_protection(app: web.Application, body: Json) -> None:
    _protection(body)


async def run_protection(app: web.Application, body: Json) -> Any:
    """Stored in the settings (as /api/v1/settings would), so it survives a restart."""
    enabled, password = _protection(body)
    change: Json = {"protection": enabled}
    if password is not None:
        change["password"] = password
    await app[DEVICE].settings.aput(sections.SYSTEM, {"system": change})
    return {"enabled": app[DEVICE].settings.system.protection}


#: The actions by name: a scenario step's "do", each the body of its POST route.
ACTIONS: Final[dict[str, Action]] = {
    "check": Action(run_check, check_nothing),
    "meter": Action(run_meter, check_meter),
    "clock": Action(run_clock, check_clock),
    "faults": Action(run_fault, check_fault),
    "faults.clear": Action(run_clear_faults, check_nothing),
    "device": Action(run_device, check_device),
    "service": Action(run_service, check_service),
    "license": Action(run_license, check_license),
    "protection": Action(run_protection, check_protection),
}


def install(app: web.Application) -> None:
    app[ADVANCE_LOCK] = asyncio.Lock()
