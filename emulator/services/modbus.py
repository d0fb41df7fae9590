"""The Modbus TCP server (the newer docs' Modbus page): function 4 (read input registers)
for any unit id, from the register map of /api/v1/modbus filled with the latest report.

It follows `services.modbus.enable` and `port` at once (a change restarts the listener; a
map change needs nothing: every read renders the map in effect). It runs on a Plus licence
or higher. Reads outside the map answer exception 02 (illegal data address), other function
codes exception 01 (illegal function), as a Siemens PAC2200 does. A privileged port the
process may not bind is a FAILED status that says how to shift it, not a retry loop.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
from collections.abc import Sequence
from typing import Final

from pymodbus.constants import ExcCodes
from pymodbus.datastore import ModbusServerContext
from pymodbus.server import ModbusTcpServer

from emulator.device.core import Device
from emulator.device.faces.modbus_map import Sources, read_registers
from emulator.device.service_status import MODBUS, ServiceState
from emulator.device.settings import sections
from emulator.device.settings.fields import Json
from emulator.device.settings.views import services_view
from emulator.services.base import LoopService

READ_INPUT_REGISTERS: Final = 4
#: Ports below this need root (or CAP_NET_BIND_SERVICE) on Linux.
FIRST_FREE_PORT: Final = 1024


class MapContext(ModbusServerContext):
    """pymodbus's server context with no datastore behind it: each read is rendered from
    the device's map and latest report at the moment it arrives."""

    def __init__(self, device: Device) -> None:  # no super(): nothing of pymodbus's store
        self.device = device
        self.old_simulator = True  # pymodbus then hands reads and writes to this object
        self.simdevices = []

    def read(self, func_code: int, address: int, count: int) -> list[int] | ExcCodes:
        if func_code != READ_INPUT_REGISTERS:
            return ExcCodes.ILLEGAL_FUNCTION
        device = self.device
        sources = Sources(device.latest, device.clock.time(), device.zone,
                          device.identity.device_id, device.identity.firmware)
        words = read_registers(device.settings.modbus_map, sources, address, count)
        return ExcCodes.ILLEGAL_ADDRESS if words is None else words

    async def async_getValues(self, device_id: int, func_code: int, address: int,
                              count: int = 1) -> list[int] | list[bool] | ExcCodes:
        return self.read(func_code, address, count)

    async def async_setValues(self, device_id: int, func_code: int, address: int,
                              values: Sequence[int] | Sequence[bool]) -> ExcCodes | None:
        return ExcCodes.ILLEGAL_FUNCTION  # read-only: writes are not a function it has

    def device_ids(self) -> list[int]:
        return [0]


def privileged_hint(port: int) -> str:
    return (f"port {port} is privileged and the emulator does not run as root: set "
            f"services.modbus.port to {FIRST_FREE_PORT} or above (for example PUT "
            '/api/v1/settings {"services":{"modbus":{"port":5020}}}), or let the process '
            "bind it (setcap cap_net_bind_service, or sysctl "
            f"net.ipv4.ip_unprivileged_port_start={port})")


def _check_bind(host: str, port: int) -> None:
    """Bind the port once to learn why pymodbus could not (it logs and swallows the
    error); raises the OSError."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))


class ModbusServer(LoopService):
    name = MODBUS

    def __init__(self, device: Device, host: str = "127.0.0.1") -> None:
        super().__init__(device)
        self.host = host
        self._server: ModbusTcpServer | None = None
        self.port = 0  # the port listened on, while running

    def enabled(self) -> tuple[bool, str]:
        if not self.device.licensed:
            return False, "the Modbus TCP server needs a Plus licence or higher"
        if not self.device.settings.services.modbus.enable:
            return False, "disabled in the settings (services.modbus.enable)"
        return True, ""

    async def start(self) -> None:
        self._unsubscribe.append(self.device.settings.subscribe(sections.SYSTEM,
                                                                self._on_settings))
        await super().start()

    def _on_settings(self, new: Json, old: Json) -> None:
        if services_view(new).modbus != services_view(old).modbus:
            self.reload()

    async def run(self) -> None:
        port = self.device.settings.services.modbus.port
        server = ModbusTcpServer(MapContext(self.device), address=(self.host, port))
        self._server = server
        if not await self._listen(server, port):
            return
        self.port = port
        self.log.info("Modbus TCP server on %s:%d", self.host, port)
        self.mark_running(f"serving Modbus TCP on {self.host}:{port}", enabled=True,
                          host=self.host, port=port)
        await server.serving

    async def _listen(self, server: ModbusTcpServer, port: int) -> bool:
        try:
            await server.serve_forever(background=True)
        except RuntimeError:
            try:
                _check_bind(self.host, port)
            except PermissionError as exc:
                if port < FIRST_FREE_PORT and os.geteuid() != 0:
                    hint = privileged_hint(port)
                    self.log.error("Modbus TCP server not started: %s", hint)
                    self.set_status(ServiceState.FAILED, hint, enabled=True, port=port)
                    return False
                raise OSError(exc.errno, f"cannot listen on {self.host}:{port}: "
                                         f"{exc.strerror}") from exc
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise OSError(exc.errno, f"port {port} is in use") from exc
                raise
            raise OSError(f"cannot listen on {self.host}:{port}") from None
        return True

    async def cleanup(self) -> None:
        server, self._server = self._server, None
        self.port = 0
        if server is not None:
            with contextlib.suppress(Exception):
                await server.shutdown()  # type: ignore[no-untyped-call]
