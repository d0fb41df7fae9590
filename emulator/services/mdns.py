"""mDNS/DNS-SD advertisement (the docs' Discovery page), with python-zeroconf's asyncio API.

Each device advertises `_http._tcp` as `whatwatt Go XXXXXX WebUI` (subtype `_server`, TXT
`id=<device id>` and `type=100`) on host `<system.host_name>.local` (the factory name
whatwatt_XXXXXX becomes whatwatt-XXXXXX: an underscore is no host-name character), and
`_modbus._tcp` as `ModbusTCP Slave XXXXXX` while its Modbus server runs. It follows
`services.broadcast` (off: withdrawn with goodbye packets) and the host name; a stop (a
shutdown, a reboot) withdraws, a start announces again. A name another responder already
holds is resolved as mDNS responders do: the instance becomes "... (2)", "... (3)".

One zeroconf instance serves every device of the process (`SharedZeroconf`, made by the
composition root): bound to loopback only when the HTTP server is, else to every interface.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import ifaddr
from zeroconf import (
    InterfaceChoice,
    NonUniqueNameException,
    ServiceInfo,
    ServiceNameAlreadyRegistered,
)
from zeroconf.asyncio import AsyncZeroconf

from emulator.device.core import Device
from emulator.device.service_status import MDNS, MODBUS, ServiceStatus
from emulator.device.settings import sections
from emulator.device.settings.fields import Json
from emulator.device.settings.views import services_view, system_view
from emulator.services.base import LoopService

Interfaces = InterfaceChoice | list[str]
HTTP_TYPE: Final = "_http._tcp.local."
HTTP_SUBTYPE: Final = "_server._sub._http._tcp.local."
MODBUS_TYPE: Final = "_modbus._tcp.local."
DEVICE_TYPE: Final = "100"  # the TXT `type` of a whatwatt Go
#: How many "(n)" names to try before giving up on a name conflict.
MAX_RENAMES: Final = 20


@dataclass(frozen=True, slots=True)
class Scope:
    """Where the process advertises: zeroconf's interfaces and the addresses announced."""

    interfaces: Interfaces
    addresses: tuple[str, ...]


def interface_addresses() -> tuple[str, ...]:
    """Every IPv4 address of the host's interfaces, loopback last."""
    found = [str(ip.ip) for adapter in ifaddr.get_adapters() for ip in adapter.ips
             if ip.is_IPv4]
    return tuple(sorted(set(found), key=lambda a: (ipaddress.ip_address(a).is_loopback, a)))


def scope_for(http_host: str) -> Scope:
    """Loopback only when HTTP is bound to it; every interface for 0.0.0.0 (or ::); the one
    address a specific bind names."""
    if http_host in ("", "0.0.0.0", "::"):  # noqa: S104 - a comparison, not a bind
        return Scope(InterfaceChoice.All, interface_addresses())
    if http_host == "localhost":
        http_host = "127.0.0.1"
    return Scope([http_host], (http_host,))


class SharedZeroconf:
    """The process's one zeroconf instance, made on first use and closed by its owner."""

    def __init__(self, interfaces: Interfaces) -> None:
        self.interfaces = interfaces
        self._zc: AsyncZeroconf | None = None

    def get(self) -> AsyncZeroconf:
        """The instance (made now, in the running loop, if it is not yet)."""
        if self._zc is None:
            self._zc = AsyncZeroconf(interfaces=self.interfaces)
        return self._zc

    async def close(self) -> None:
        zc, self._zc = self._zc, None
        if zc is not None:
            await zc.async_close()


def mdns_host_name(host_name: str) -> str:
    """The mDNS host for a system.host_name: letters, digits and hyphens, under .local."""
    label = "".join(c if c.isalnum() or c == "-" else "-" for c in host_name).strip("-")
    return f"{label or 'whatwatt'}.local."


class MdnsAdvertiser(LoopService):
    name = MDNS
    backoff_first = 1.0
    backoff_limit = 30.0

    def __init__(self, device: Device, zeroconf: SharedZeroconf, http_port: Callable[[], int],
                 addresses: Sequence[str]) -> None:
        super().__init__(device)
        self.zeroconf = zeroconf
        self.http_port = http_port
        self.addresses = tuple(addresses)
        self.suffix = device.identity.device_id[-6:].upper()
        self._registered: dict[str, ServiceInfo] = {}  # by service type
        self._modbus_changed = asyncio.Event()

    def enabled(self) -> tuple[bool, str]:
        if not self.device.settings.services.broadcast:
            return False, "mDNS broadcasting is off in the settings (services.broadcast)"
        return True, ""

    async def start(self) -> None:
        self._unsubscribe.append(self.device.settings.subscribe(sections.SYSTEM,
                                                                self._on_settings))
        self._unsubscribe.append(self.device.services.subscribe(self._on_board))
        await super().start()

    def _on_settings(self, new: Json, old: Json) -> None:
        if (services_view(new).broadcast != services_view(old).broadcast
                or system_view(new).host_name != system_view(old).host_name):
            self.reload()

    def _on_board(self, name: str, status: ServiceStatus) -> None:
        if name == MODBUS:
            self._modbus_changed.set()

    # --- the job ---------------------------------------------------------------------------

    async def run(self) -> None:
        zc = self.zeroconf.get()
        host = mdns_host_name(self.device.settings.system.host_name)
        http = await self._register(zc, HTTP_SUBTYPE, f"whatwatt Go {self.suffix} WebUI",
                                    base=HTTP_TYPE, port=self.http_port(), host=host,
                                    txt={"id": self.device.identity.device_id,
                                         "type": DEVICE_TYPE})
        self.mark_running(f"advertising {_instance(http)} on {host}", name=_instance(http),
                          host=host, port=self.http_port())
        while True:
            self._modbus_changed.clear()
            await self._follow_modbus(zc, host)
            await self._modbus_changed.wait()

    async def _follow_modbus(self, zc: AsyncZeroconf, host: str) -> None:
        """Advertise `_modbus._tcp` while the Modbus server runs, on its port."""
        status = self.device.services.get(MODBUS)
        port = status.facts.get("port") if status.running else None
        current = self._registered.get(MODBUS_TYPE)
        if current is not None and current.port == port:
            return
        if current is not None:
            await self._withdraw(zc, MODBUS_TYPE)
        if isinstance(port, int):
            await self._register(zc, MODBUS_TYPE, f"ModbusTCP Slave {self.suffix}",
                                 base=MODBUS_TYPE, port=port, host=host, txt={})

    async def _register(self, zc: AsyncZeroconf, type_: str, instance: str, *, base: str,
                        port: int, host: str, txt: dict[str, str]) -> ServiceInfo:
        addresses = [ipaddress.ip_address(a).packed for a in self.addresses]
        for n in range(1, MAX_RENAMES + 1):
            name = instance if n == 1 else f"{instance} ({n})"
            info = ServiceInfo(type_, f"{name}.{base}", port=port, properties=txt,
                               server=host, addresses=addresses)
            try:
                announced = await zc.async_register_service(info)
            except (NonUniqueNameException, ServiceNameAlreadyRegistered):
                self.log.warning("mDNS name %r is taken on the network; trying another", name)
                continue
            self._registered[base] = info
            await announced
            return info
        raise RuntimeError(f"no free mDNS name for {instance!r} after {MAX_RENAMES} tries")

    async def _withdraw(self, zc: AsyncZeroconf, base: str) -> None:
        info = self._registered.pop(base, None)
        if info is not None:
            goodbye = await zc.async_unregister_service(info)
            await goodbye

    async def cleanup(self) -> None:
        """Goodbye packets for whatever is advertised (a stop, a reload, broadcast off)."""
        if not self._registered:
            return
        zc = self.zeroconf.get()
        for base in list(self._registered):
            with contextlib.suppress(Exception):
                await self._withdraw(zc, base)
        self._registered.clear()


def _instance(info: ServiceInfo) -> str:
    return info.name.removesuffix("." + HTTP_TYPE)
