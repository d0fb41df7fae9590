"""N complete devices in one process, each built by the composition root (EmulatorApp).

Each device has its own id, data dir (`DATA_DIR/<id>/`), HTTP listener, mDNS name, MQTT
client id and virtual meter (see plan.py). The process shares what a process has one of:
the zeroconf instance, the HTTP client session (actions; the index's proxy) and, with
`mqtt_broker`, one MQTT broker that every device publishes to (run in a process of its
own, broker_process.py, so that its work does not delay the devices' reports).

Devices start a few at a time; one that cannot start (a port taken, a data dir it cannot
write) is FAILED with the reason in its status and the others go on.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import dataclass
from typing import Final

import aiohttp

from emulator.app import EmulatorApp, fleet_device_config
from emulator.config import AppConfig, is_loopback
from emulator.device.settings import sections
from emulator.fleet.broker_process import READY
from emulator.fleet.plan import DevicePlan, FleetPlan
from emulator.runtime.broker_config import bind_address
from emulator.services.actions import client_session
from emulator.services.mdns import SharedZeroconf, scope_for

_LOG = logging.getLogger(__name__)

#: How many devices are built and started at once.
START_CONCURRENCY: Final = 32
#: Seconds between checks of a stopping device, and the most it may take (_quietly_stop).
STOP_WAIT: Final = 1.0
STOP_LIMIT: Final = 20.0
#: Seconds the broker's process has to say it listens, and to end when asked.
BROKER_START: Final = 30.0
BROKER_STOP: Final = 10.0
#: The MQTT template of a fleet device when none is set: a compact report.
FLEET_TEMPLATE: Final = (
    '{"id":"${sys.id}","t":${timestamp},"p_in":${power.in},"p_out":${power.out},'
    '"e_in":${energy.in},"e_out":${energy.out}}')

STARTING: Final = "starting"
SERVING: Final = "serving"
STOPPED: Final = "stopped"


class BrokerFailed(Exception):
    """The fleet's MQTT broker could not start (the message says why)."""


@dataclass(frozen=True, slots=True)
class MqttTarget:
    """Where every device publishes: a broker URL, the topic pattern ({id} is the device
    id) and the publication interval (services.report_interval); applied at every start,
    as the fleet's operator configured it."""

    url: str | None = None
    topic: str = "whatwatt/{id}"
    interval: int | None = None


@dataclass(slots=True)
class Member:
    plan: DevicePlan
    config: AppConfig
    app: EmulatorApp | None = None
    status: str = STARTING

    @property
    def url(self) -> str:
        if self.app is not None and self.app.port:
            return self.app.url
        return f"http://{self.config.http_host}:{self.config.http_port}"

    def describe(self) -> dict[str, object]:
        return {"id": self.plan.device_id, "url": self.url, "profile": self.plan.profile,
                "status": self.status, "index": self.plan.index,
                "global_index": self.plan.global_index}


def loopback_range(plan: FleetPlan) -> bool:
    net = plan.listen.network
    return net is not None and net.network_address.is_loopback


class Fleet:
    def __init__(self, plan: FleetPlan, base: AppConfig, *,
                 mqtt: MqttTarget | None = None, mqtt_broker: int | None = None,
                 concurrency: int = START_CONCURRENCY) -> None:
        self.plan = plan
        self.base = base
        self.mqtt = mqtt or MqttTarget()
        self.mqtt_broker_port = mqtt_broker
        self.concurrency = concurrency
        self.members = [Member(p, self._config(p)) for p in plan.members()]
        self.by_id = {m.plan.device_id: m for m in self.members}
        self.zeroconf: SharedZeroconf | None = None
        if base.mdns:
            # One instance for all: on loopback for a loopback range, else where the
            # devices listen (scope_for: every interface for 0.0.0.0).
            interfaces = (["127.0.0.1"] if loopback_range(plan)
                          else scope_for(plan.listen.host).interfaces)
            self.zeroconf = SharedZeroconf(interfaces)
        self.session: aiohttp.ClientSession | None = None
        self.broker: asyncio.subprocess.Process | None = None
        self._broker_log: asyncio.Future[None] | None = None
        self.broker_url: str | None = None
        self.started = False  # every device has started or failed

    def _config(self, p: DevicePlan) -> AppConfig:
        return fleet_device_config(self.base, host=p.host, port=p.port,
                                   device_id=p.device_id, profile=p.profile, seed=p.seed)

    # --- start and stop -------------------------------------------------------------------

    async def start(self) -> None:
        """Every device serving or failed (with its reason); returns once all have tried."""
        self.session = client_session()
        if self.mqtt_broker_port is not None:
            await self._start_broker(self.mqtt_broker_port)
        gate = asyncio.Semaphore(self.concurrency)
        await asyncio.gather(*(self._start_member(m, gate) for m in self.members))
        self.started = True
        failed = [m for m in self.members if m.status != SERVING]
        if failed:
            _LOG.warning("%d of %d devices failed to start; first: %s %s", len(failed),
                         len(self.members), failed[0].plan.device_id, failed[0].status)

    async def _start_broker(self, port: int) -> None:
        """The fleet's broker, in a process of its own (emulator.fleet.broker_process)."""
        host = self.base.http_host if self.plan.listen.network is None \
            or not loopback_range(self.plan) else "127.0.0.1"
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "emulator.fleet.broker_process", host, str(port),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        self.broker = process
        assert process.stdout is not None
        assert process.stderr is not None
        try:
            line = (await asyncio.wait_for(process.stdout.readline(), BROKER_START)).decode()
        except TimeoutError:
            line = ""
        word, _, bound = line.strip().partition(" ")
        if word != READY or not bound.isdigit():
            await self._stop_broker()
            said = (await process.stderr.read()).decode(errors="replace").strip()
            raise BrokerFailed(said.splitlines()[-1] if said else
                               f"the fleet's MQTT broker did not start on "
                               f"{bind_address(host, port)}")
        # What it says later (amqtt's warnings) goes to the fleet's log, never blocking it.
        self._broker_log = asyncio.ensure_future(_relay(process.stderr))
        reach = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # noqa: S104
        self.broker_url = f"mqtt://{bind_address(reach, int(bound))}"
        _LOG.info("fleet MQTT broker on %s (process %d)", bind_address(host, int(bound)),
                  process.pid)

    async def _stop_broker(self) -> None:
        relay, self._broker_log = self._broker_log, None
        if relay is not None:
            relay.cancel()
        process, self.broker = self.broker, None
        if process is None or process.returncode is not None:
            return
        if process.stdin is not None:
            process.stdin.close()  # the broker ends when its input closes
        try:
            await asyncio.wait_for(process.wait(), BROKER_STOP)
        except TimeoutError:
            process.kill()
            await process.wait()

    async def _start_member(self, member: Member, gate: asyncio.Semaphore) -> None:
        async with gate:
            try:
                # The device's files (identity, settings) are read and written in a thread.
                member.app = await asyncio.to_thread(self._build, member)
                await member.app.start()
            except Exception as exc:  # noqa: BLE001 - one device's failure is its status
                member.status = f"failed: {_why(exc)}"
                _LOG.error("device %s (%s) did not start: %s", member.plan.device_id,
                           member.url, _why(exc))
                app, member.app = member.app, None
                if app is not None:
                    await _quietly_stop(app)
                return
            member.status = SERVING

    def _build(self, member: Member) -> EmulatorApp:
        app = EmulatorApp(member.config, zeroconf=self.zeroconf, session=self.session)
        self._apply_mqtt(app, member.plan.device_id)
        return app

    def _apply_mqtt(self, app: EmulatorApp, device_id: str) -> None:
        url = self.mqtt.url or self.broker_url
        settings = app.device.settings
        if url is not None:
            current = settings.get(sections.MQTT)
            publish = current.get("publish")
            template = publish.get("template") if isinstance(publish, dict) else ""
            wanted = {"enable": True, "url": url,
                      "publish": {"topic": self.mqtt.topic.format(id=device_id),
                                  "template": template or FLEET_TEMPLATE}}
            if {k: current.get(k) for k in wanted} != wanted:
                settings.put(sections.MQTT, wanted)
        interval = self.mqtt.interval
        if interval is not None and settings.services.report_interval != interval:
            settings.put(sections.SYSTEM, {"services": {"report_interval": interval}})

    async def stop(self) -> None:
        self.started = False
        apps = [m.app for m in self.members if m.app is not None]
        await asyncio.gather(*(_quietly_stop(a) for a in apps))
        for member in self.members:
            member.app = None
            if member.status == SERVING:
                member.status = STOPPED
        await self._stop_broker()
        if self.zeroconf is not None:
            await self.zeroconf.close()
        session, self.session = self.session, None
        if session is not None:
            await session.close()

    # --- facts ----------------------------------------------------------------------------

    def listing(self) -> list[dict[str, object]]:
        return [m.describe() for m in self.members]

    @property
    def serving(self) -> int:
        return sum(1 for m in self.members if m.status == SERVING)

    def loopback(self) -> bool:
        return loopback_range(self.plan) or is_loopback(self.plan.listen.host)


async def _relay(stream: asyncio.StreamReader) -> None:
    """The broker process's stderr, line by line, into the fleet's log."""
    while line := await stream.readline():
        _LOG.warning("MQTT broker: %s", line.decode(errors="replace").rstrip()[:500])


async def _quietly_stop(app: EmulatorApp) -> None:
    """Stop one device. Under load, Python 3.11's asyncio.wait_for (which aiomqtt's publish
    uses) can swallow a cancellation that lands as its future completes; the device's MQTT
    publisher then runs on and its stop never returns. So the stop is watched: a service
    task of the device still "cancelling" after STOP_WAIT is cancelled again, and after
    STOP_LIMIT the fleet goes on without the device (the loop's close cancels the rest)."""
    device_id = app.device.identity.device_id
    stopping = asyncio.ensure_future(app.stop())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STOP_LIMIT
    while True:
        done, _ = await asyncio.wait([stopping], timeout=STOP_WAIT)
        if done:
            break
        if loop.time() >= deadline:
            _LOG.warning("device %s did not stop within %g s; going on without it",
                         device_id, STOP_LIMIT)
            stopping.cancel()
            return
        for task in asyncio.all_tasks():
            name = task.get_name()
            if name.startswith("service ") and name.endswith(device_id) and task.cancelling():
                task.cancel()
    if not stopping.cancelled() and stopping.exception() is not None:
        _LOG.error("device %s did not stop cleanly: %s", device_id, stopping.exception())


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror.lower()}{where}"
    return str(exc) or type(exc).__name__
