"""A complete emulated whatwatt Go for a test: served on a free loopback port by its own
thread and event loop, so sync tests (requests, urllib) and async ones (aiohttp, httpx)
talk to it alike, over real HTTP.

On a manual clock (the default) device time moves only through `advance(seconds)`, which
returns once every frame due in that span was delivered, decoded and reported: no sleeps,
the same values on every run with the same seed. The helpers wrap the control API
(/emulator/v1/), so what a test does is what any client of the emulator could do.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from emulator.testing.http import ControlError, EventStream, Response, request

#: A hang guard for start and stop (a performance figure lives in bench/, not here).
START_LIMIT_S = 60.0
#: Status names of the meter, as /api/v1/system shows them.
OK, NO_DATA = "OK", "NO DATA"


@dataclass(frozen=True, slots=True)
class DeviceOptions:
    """What a test chooses about its device (the marker's and the factory's keywords)."""

    profile: str = "ensor-ers"
    license: str = "plus"  # free, plus, pro
    password: str | None = None  # protection on, with this password
    seed: int = 1
    start_time: str | float | None = "2025-01-22T11:54:00+01:00"  # None: now
    clock: str = "manual"  # manual or scaled
    speed: float = 1.0  # with clock="scaled"
    timezone: str = "Europe/Zurich"
    device_id: str | None = "A842E39F8124"
    auth: str = "both"
    wait_for: str | None = OK  # the meter status to reach before the test starts
    sdcard: bool = True
    mqtt_broker: int | None = None  # an embedded MQTT broker on this port (0: a free one)


def _epoch(start: str | float | None) -> float | None:
    if start is None or isinstance(start, int | float):
        return start
    moment = datetime.fromisoformat(start)
    if moment.tzinfo is None:
        raise ValueError(f"start_time needs a time zone: {start!r}")
    return moment.timestamp()


class WhatwattDevice:
    """One emulated device. Use `start()`/`stop()` or a `with` block (the fixtures do)."""

    def __init__(self, data_dir: Path, options: DeviceOptions | None = None) -> None:
        self.options = options or DeviceOptions()
        self.data_dir = data_dir
        self.url = ""
        #: The device's password while protection is on (the helpers send it).
        self.password = self.options.password
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None

    # --- life -----------------------------------------------------------------------------

    def __enter__(self) -> WhatwattDevice:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> WhatwattDevice:
        # Imported here, in the caller's thread: importing does file I/O, which has no place
        # on the device's loop; and a pytest run that uses no device does not pay for it.
        import emulator.app  # noqa: F401, PLC0415

        self._thread = threading.Thread(target=self._serve, name="whatwatt device",
                                        daemon=True)
        self._thread.start()
        if not self._ready.wait(START_LIMIT_S) or self._failure is not None:
            self.stop()
            raise RuntimeError(f"the emulated device did not start: {self._failure!r}")
        if self.options.password:
            self.password = None
            self.set_protection(self.options.password)
        if self.options.wait_for is not None:
            self.wait_for_status(self.options.wait_for)
            if self.options.clock == "manual":
                # Half an interval on: frames fall due (and finish arriving) in the middle
                # of each later advance(interval), not at its very end.
                meter = self.state()["meter"]["virtual_meter"]
                self.advance(float(meter["interval_s"]) / 2)
        return self

    def stop(self) -> None:
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(stopping.set)
        if self._thread is not None:
            self._thread.join(START_LIMIT_S)
            self._thread = None

    def _serve(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            self._failure = exc
            self._ready.set()

    async def _main(self) -> None:
        from emulator.app import EmulatorApp  # noqa: PLC0415
        from emulator.config import AppConfig, AuthMode, License  # noqa: PLC0415
        from emulator.meter.source import MeterSource  # noqa: PLC0415

        o = self.options
        config = AppConfig(
            http_host="127.0.0.1", http_port=0, data_dir=self.data_dir,
            meter=MeterSource.parse(f"virtual:{o.profile}"), device_id=o.device_id,
            sdcard=o.sdcard, mdns=False, speed=o.speed, seed=o.seed, timezone=o.timezone,
            start_time=_epoch(o.start_time), auth=AuthMode(o.auth),
            license=License(o.license.lower()), control_api=True,
            manual_clock=o.clock == "manual", mqtt_broker=o.mqtt_broker)
        app = EmulatorApp(config)
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        await app.start()
        try:
            self.url = app.url
            self._ready.set()
            await self._stopping.wait()
        finally:
            await app.stop()

    # --- plain HTTP -----------------------------------------------------------------------

    def _headers(self, auth: bool, headers: dict[str, str] | None) -> dict[str, str]:
        sent = dict(headers or {})
        if auth and self.password:
            token = base64.b64encode(f":{self.password}".encode()).decode()
            sent.setdefault("Authorization", f"Basic {token}")
        return sent

    def get(self, path: str, *, auth: bool = True,
            headers: dict[str, str] | None = None) -> Response:
        """GET on the device; with its password while protection is on, unless `auth`
        is False (to see the device's 401)."""
        return request("GET", self.url + path, headers=self._headers(auth, headers))

    def post(self, path: str, body: Any = None, *, auth: bool = True,
             headers: dict[str, str] | None = None) -> Response:
        return request("POST", self.url + path, body, headers=self._headers(auth, headers))

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """A control-API request (/emulator/v1/PATH); its JSON, or ControlError."""
        answer = request(method, f"{self.url}/emulator/v1/{path}", body,
                         headers=self._headers(True, None))
        if answer.status >= 400:
            raise ControlError(f"{method} /emulator/v1/{path}: {answer.status} {answer.text}")
        return answer.json() if answer.body else None

    def report(self) -> Any:
        """GET /api/v1/report's JSON (ControlError unless 200)."""
        answer = self.get("/api/v1/report")
        if answer.status != 200:
            raise ControlError(f"GET /api/v1/report: {answer.status} {answer.text}")
        return answer.json()

    def live(self) -> EventStream:
        """The device's /api/v1/live stream (one client at a time, as on the device)."""
        return EventStream(self.url + "/api/v1/live", headers=self._headers(True, None))

    def ui_stream(self) -> EventStream:
        """The emulator's own stream: `state` (meter status, services) at every change,
        `report` at every report; any number of readers."""
        return EventStream(self.url + "/emulator/v1/ui/stream",
                           headers=self._headers(True, None))

    # --- steering -------------------------------------------------------------------------

    def state(self) -> Any:
        return self.control("GET", "state")

    def status(self) -> str:
        return str(self.state()["meter"]["link"]["status"])

    def advance(self, seconds: float) -> Any:
        """Move a manual clock `seconds` ahead; returns once everything due meanwhile
        (frames, reports, reverts, scenario steps) has happened."""
        return self.control("POST", "clock", {"advance_s": seconds})

    def set_time(self, when: str) -> Any:
        return self.control("POST", "clock", {"time": when})

    def meter(self, **changes: Any) -> Any:
        """POST /emulator/v1/meter with these keys (silent, values, key, duration_s...)."""
        return self.control("POST", "meter", changes)

    def set_values(self, values: dict[str, float | None],
                   duration_s: float | None = None) -> Any:
        """Force meter registers (OBIS C.D.E or name -> base units; None releases)."""
        return self.meter(values=values, **_duration(duration_s))

    def silence(self, silent: bool = True, duration_s: float | None = None) -> Any:
        return self.meter(silent=silent, **_duration(duration_s))

    def change_key(self, encryption_key: str, authentication_key: str | None = None,
                   duration_s: float | None = None) -> Any:
        """The meter's own keys change (the device's configured key becomes wrong)."""
        key = {"encryption_key": encryption_key}
        if authentication_key is not None:
            key["authentication_key"] = authentication_key
        return self.meter(key=key, **_duration(duration_s))

    def set_license(self, license: str, duration_s: float | None = None) -> Any:
        return self.control("POST", "license", {"license": license, **_duration(duration_s)})

    def set_protection(self, password: str | None) -> Any:
        """Protection on with this password (None: off); the helpers use it from now."""
        answer = self.control("POST", "protection", {"enabled": password is not None,
                                                     "password": password or ""})
        self.password = password
        return answer

    def fault(self, route: str, **fault: Any) -> Any:
        """Add an HTTP fault (latency_ms, status, drop, sse_stop_after, method,
        duration_s); returns it, with its id."""
        return self.control("POST", "faults", {"route": route, **fault})

    def clear_faults(self) -> None:
        self.control("DELETE", "faults")

    def reboot(self) -> Any:
        return self.control("POST", "device", {"event": "reboot"})

    def power_cut(self) -> Any:
        return self.control("POST", "device", {"event": "power_cut"})

    def run_scenario(self, scenario: dict[str, Any]) -> Any:
        return self.control("POST", "scenario", scenario)

    def wait_for_status(self, status: str, within_s: float = 120.0, step_s: float = 1.0) -> str:
        """Until the meter status is `status`: on a manual clock by advancing device time
        `step_s` at a time (at most `within_s` device seconds), on a scaled one by polling
        for `within_s` device seconds. Returns the status; TimeoutError otherwise."""
        manual = self.state()["clock"]["mode"] == "manual"
        waited = 0.0
        speed = 1.0 if manual else float(self.state()["clock"]["speed"])
        while (now := self.status()) != status:
            if waited >= within_s:
                raise TimeoutError(f"meter status stayed {now!r}, wanted {status!r} "
                                   f"within {within_s:g} device seconds")
            if manual:
                self.advance(step_s)
            else:
                time.sleep(0.05)
                step_s = 0.05 * speed
            waited += step_s
        return now


def _duration(duration_s: float | None) -> dict[str, float]:
    return {} if duration_s is None else {"duration_s": duration_s}
