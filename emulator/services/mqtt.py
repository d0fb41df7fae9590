"""The device's MQTT client: publishes the templated report to the configured broker.

- Runs while `/api/v1/mqtt/settings` enables it, a URL is set and the licence is Plus or
  higher (the settings endpoint works on every licence). A change of those settings
  reconnects at once.
- Publishes a report only when one arrives (so only while a meter delivers frames), at
  most once per `services.report_interval` seconds of the device's clock: with a meter
  that reports less often, every report is published. The first report after each
  connection is published at once. QoS 0, not retained.
- Plain TCP (`mqtt://`) or TLS (`mqtts://`): the broker certificate (a CA, or the server's
  own certificate) is the only trust anchor when set, else the system's; `skip_cn_check`
  turns host-name checking off (the chain is still verified); mutual TLS with the client
  certificate and key (decrypted with `client.key_password`).
- A broker that goes away is noticed at once; the client reconnects with a backoff of
  0.5 s doubling to 5 s. A refused login, an unreachable broker or a TLS failure is a
  status (`clouds.mqtc.connected` false in /api/v1/system) and one log line per kind of
  failure (repeats are counted), never an exception that reaches the device.
- The meter loop never waits for the broker: reports come through a one-slot subscription
  (a slow broker sees the newest report, never a backlog). Between publications the
  client holds no subscription and sleeps until just before the next report can be due
  (a change of the interval wakes it), so a fleet's clients do not wake for every report.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import ssl
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, ClassVar

import aiomqtt

from emulator.device.core import Device
from emulator.device.faces.variables import variables
from emulator.device.hub import Subscription, SubscriptionEnded
from emulator.device.service_status import MQTT, Fact, ServiceState
from emulator.device.settings import sections
from emulator.device.settings.mqtt import BrokerAddress, MqttSettings
from emulator.device.system_info import system_variables
from emulator.device.template import Template
from emulator.device.values import Report
from emulator.services.base import LoopService

#: A report this much (device seconds) before the interval is up still counts as due, so
#: a meter's jitter does not push publications to the next report.
_SLACK = 0.25
#: Between publications the client takes no reports; it listens again this long (device
#: seconds) before the next can be due, so the first due report is never missed.
_LISTEN_EARLY = 0.5


class MqttFailure(Exception):
    """Why the client is not connected, in words; the class names the kind for the log."""


class BrokerUnreachable(MqttFailure):
    pass


class LoginRefused(MqttFailure):
    pass


class TlsFailure(MqttFailure):
    pass


class ConnectionLost(MqttFailure):
    pass


@contextlib.contextmanager
def _memory_file(data: bytes) -> Iterator[str]:
    """A path to `data` for APIs that only read files (ssl's load_cert_chain): an anonymous
    in-memory file on Linux, so the client key never touches a disk; elsewhere a private
    temporary file, removed at once."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("whatwatt-mqtt-client", os.MFD_CLOEXEC)
        try:
            os.write(fd, data)
            yield f"/proc/self/fd/{fd}"
        finally:
            os.close(fd)
        return
    with tempfile.TemporaryDirectory() as folder:  # pragma: no cover - not Linux
        path = Path(folder) / "client.pem"
        path.touch(mode=0o600)
        path.write_bytes(data)
        yield str(path)


class _ClosingSSLSocket(ssl.SSLSocket):
    """paho leaves a socket whose TLS handshake failed open (to be closed, with a
    ResourceWarning, whenever the garbage collector gets to it); this one closes itself."""

    def do_handshake(self, block: bool = False) -> None:
        try:
            super().do_handshake(block)
        except BaseException:
            self.close()
            raise


def tls_context(settings: MqttSettings) -> ssl.SSLContext:
    """The TLS context of an `mqtts://` connection, from the settings' PEM texts."""
    if settings.broker_certificate:
        context = ssl.create_default_context(cadata=settings.broker_certificate)
        # The broker certificate may be the server's own (pinned) rather than a root CA.
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    else:
        context = ssl.create_default_context()
    context.check_hostname = not settings.skip_cn_check
    context.sslsocket_class = _ClosingSSLSocket
    if settings.client_certificate and settings.client_key:
        pem = settings.client_certificate.rstrip("\n") + "\n" + settings.client_key
        with _memory_file(pem.encode()) as path:
            # Never None: OpenSSL would prompt on a terminal for an encrypted key.
            context.load_cert_chain(path, password=settings.client_key_password or "")
    return context


async def _first_of(waits: tuple[asyncio.Future[Any], ...], lost: asyncio.Future[None]) -> None:
    """Until one of `waits` is done (the others are cancelled); raises ConnectionLost
    as soon as the broker goes away (`lost` done), whatever else is done too."""
    try:
        await asyncio.wait((*waits, lost), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waits:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    if lost.done():
        lost.result()
        raise ConnectionLost("the broker closed the connection")


def is_due(last: float | None, now: float, interval: float) -> bool:
    """Whether a report arriving at `now` is published, the last publication having been
    at `last` (None: none yet on this connection); device seconds."""
    return last is None or now - last >= interval - _SLACK


def client_id(settings: MqttSettings, device_id: str) -> str:
    """The configured client id; empty: ESP-MQTT's default, ESP32_ + the MAC's last bytes."""
    return settings.client_id or f"ESP32_{device_id[-6:]}"


def _failure(exc: aiomqtt.MqttError, address: BrokerAddress) -> MqttFailure:
    where = f"{address.host}:{address.port}"
    text = str(exc)
    if isinstance(exc, aiomqtt.MqttCodeError):
        return LoginRefused(f"the broker at {where} refused the connection: {text}")
    if "SSL" in text or "certificate" in text.lower():
        return TlsFailure(f"TLS with {where} failed: {text}")
    if "timed out" in text and address.tls:
        # TLS 1.3: a broker that refuses our certificate says so after the handshake,
        # and the client only sees no CONNACK coming.
        return TlsFailure(f"no answer from the broker at {where} after the TLS handshake "
                          "(does it accept the client certificate?)")
    if "timed out" in text:
        return BrokerUnreachable(f"no answer from the broker at {where}")
    return BrokerUnreachable(f"cannot reach the broker at {where}: {text}")


class MqttPublisher(LoopService):
    name: ClassVar[str] = MQTT
    backoff_first: ClassVar[float] = 0.5
    backoff_limit: ClassVar[float] = 5.0
    #: Seconds to wait for the broker's CONNACK (ESP-MQTT's network timeout).
    connect_timeout: ClassVar[float] = 10.0
    keepalive: ClassVar[int] = 60

    def __init__(self, device: Device) -> None:
        super().__init__(device)
        self.published = 0  # messages handed to the broker since start
        self.connections = 0

    async def start(self) -> None:
        self.watch(sections.MQTT)
        await super().start()

    def enabled(self) -> tuple[bool, str]:
        settings = self.device.settings.mqtt
        if not settings.enable:
            return False, "disabled in the MQTT settings"
        if not self.device.licensed:
            return False, "MQTT publishing needs a Plus licence"
        if not settings.url:
            return False, "no broker URL set"
        return True, ""

    def set_status(self, state: ServiceState, detail: str = "", **facts: Fact) -> None:
        # clouds.mqtc.enabled shows the setting, whatever the client's state.
        facts.setdefault("enabled", self.device.settings.mqtt.enable)
        super().set_status(state, detail, **facts)

    async def run(self) -> None:
        settings = self.device.settings.mqtt
        address = settings.address
        if address is None:  # enabled() saw a URL; a change since restarts us anyway
            return
        context = await asyncio.to_thread(tls_context, settings) if address.tls else None
        client = aiomqtt.Client(
            address.host, address.port,
            username=settings.username or None, password=settings.password or None,
            identifier=client_id(settings, self.device.identity.device_id),
            tls_context=context, timeout=self.connect_timeout, keepalive=self.keepalive,
            logger=logging.getLogger("emulator.services.mqtt.client"))
        async with self._connection(client, address):
            self.connections += 1
            self.mark_running(f"connected to {settings.url}", url=settings.url)
            self.log.info("MQTT connected to %s as %s", settings.url,
                          client_id(settings, self.device.identity.device_id))
            await self._publish_reports(client, settings)

    @contextlib.asynccontextmanager
    async def _connection(self, client: aiomqtt.Client,
                          address: BrokerAddress) -> AsyncIterator[None]:
        enter = asyncio.ensure_future(client.__aenter__())
        try:
            await asyncio.shield(enter)
        except asyncio.CancelledError:
            # Cancelled mid-connect (a settings change, a stop): let the attempt end and
            # close what it opened, so no connection lingers behind us.
            with contextlib.suppress(Exception):
                await enter
                await client.__aexit__(None, None, None)
            self._forget(client)
            raise
        except aiomqtt.MqttError as exc:
            self._forget(client)
            raise _failure(exc, address) from exc
        try:
            yield
        finally:
            with contextlib.suppress(aiomqtt.MqttError):
                await client.__aexit__(None, None, None)
            self._forget(client)

    @staticmethod
    def _forget(client: aiomqtt.Client) -> None:
        """aiomqtt leaves its housekeeping task to be cancelled from paho's thread; cancel
        it now so a closed client leaves nothing on the loop."""
        misc = getattr(client, "_misc_task", None)
        if isinstance(misc, asyncio.Task) and not misc.done():
            misc.cancel()

    async def _publish_reports(self, client: aiomqtt.Client, settings: MqttSettings) -> None:
        template = Template.parse(settings.template)
        lost = asyncio.ensure_future(self._until_disconnected(client))
        changed = asyncio.Event()  # the report interval changed (system settings)
        unsubscribe = self.device.settings.subscribe(
            sections.SYSTEM, lambda _new, _old: changed.set())
        sub: Subscription[Report] | None = self.device.reports.subscribe(maxsize=1)
        last: float | None = None
        clock = self.device.clock
        try:
            while True:
                interval = self.device.settings.services.report_interval
                if last is not None:
                    # No report before this one can be due: stop taking reports until
                    # then (a meter reporting every second would wake us ten times per
                    # publication of a 10 s interval), listening again a little earlier.
                    quiet = last + interval - _SLACK - _LISTEN_EARLY - clock.monotonic()
                    if quiet > 0:
                        if sub is not None:
                            sub.close()
                            sub = None
                        changed.clear()
                        await self._pause(quiet, lost, changed)
                        continue  # the interval may have changed meanwhile
                if sub is None:
                    sub = self.device.reports.subscribe(maxsize=1)
                report, sub = await self._next_report(sub, lost)
                now = clock.monotonic()
                if not is_due(last, now, self.device.settings.services.report_interval):
                    continue
                last = now
                await self._publish(client, settings.topic, template, report)
        finally:
            unsubscribe()
            if sub is not None:
                sub.close()
            lost.cancel()
            with contextlib.suppress(asyncio.CancelledError, MqttFailure):
                await lost

    async def _pause(self, seconds: float, lost: asyncio.Future[None],
                     changed: asyncio.Event) -> None:
        """Wait `seconds` of the device's clock, less if the report interval changes;
        raises ConnectionLost as soon as the broker goes away."""
        await _first_of((asyncio.ensure_future(self.device.clock.sleep(seconds)),
                         asyncio.ensure_future(changed.wait())), lost)

    async def _next_report(self, sub: Subscription[Report],
                           lost: asyncio.Future[None]) -> tuple[Report, Subscription[Report]]:
        """The next report; raises ConnectionLost as soon as the broker goes away."""
        while True:
            getting = asyncio.ensure_future(sub.get())
            await _first_of((getting,), lost)
            try:
                return getting.result(), sub
            except SubscriptionEnded:  # the device restarted its streams
                sub = self.device.reports.subscribe(maxsize=1)

    @staticmethod
    async def _until_disconnected(client: aiomqtt.Client) -> None:
        """Returns or raises once the connection is gone (we subscribe to nothing, so the
        message iterator only ever ends by a disconnection)."""
        try:
            async for _ in client.messages:
                pass
        except aiomqtt.MqttError as exc:
            raise ConnectionLost(f"connection to the broker lost: {exc}") from exc

    async def _publish(self, client: aiomqtt.Client, topic: str, template: Template,
                       report: Report) -> None:
        if not topic:
            self.quiet.problem("no_topic", "MQTT: no publish topic set, nothing is published")
            return
        values = dict(variables(report, system_variables(self.device), self.device.zone))
        payload = template.render(values)
        try:
            await client.publish(topic, payload.encode(), qos=0, retain=False)
        except ValueError as exc:  # a topic paho refuses (wildcards)
            self.quiet.problem("bad_topic", "MQTT: cannot publish to %r: %s", topic, exc)
            return
        except aiomqtt.MqttError as exc:
            raise ConnectionLost(f"publishing failed: {exc}") from exc
        self.published += 1
