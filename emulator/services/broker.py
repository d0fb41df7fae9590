"""An MQTT broker inside the emulator's process (`--mqtt-broker PORT`), so a demo or a
container shows MQTT with nothing else installed: point the device's MQTT settings at
`mqtt://HOST:PORT` and subscribe with any client.

It is amqtt's broker (MQTT 3.1.1, anonymous clients allowed, no retained `$SYS` topics),
listening on the HTTP server's address (127.0.0.1 unless --http says otherwise). Port 0
takes a free port; the port in use is on the status board (facts `host`, `port`).
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from amqtt.broker import Broker

from emulator.device.core import Device
from emulator.device.service_status import BROKER
from emulator.runtime.broker_config import bind_address, bound_port, broker_config
from emulator.services.base import LoopService

__all__ = ["EmbeddedBroker", "bind_address", "broker_config"]


class EmbeddedBroker(LoopService):
    name: ClassVar[str] = BROKER

    def __init__(self, device: Device, host: str, port: int) -> None:
        super().__init__(device)
        self.host = host
        self.requested_port = port
        self.port: int | None = None  # the port in use while running
        self._broker: Broker | None = None

    async def run(self) -> None:
        broker = Broker(broker_config(self.host, self.requested_port))
        self._broker = broker
        await broker.start()
        self.port = bound_port(broker, self.requested_port)
        self.mark_running(f"MQTT broker on {bind_address(self.host, self.port)}",
                          host=self.host, port=self.port)
        self.log.info("embedded MQTT broker listening on %s",
                      bind_address(self.host, self.port))
        await asyncio.Event().wait()  # serve until cancelled

    async def cleanup(self) -> None:
        broker, self._broker = self._broker, None
        self.port = None
        if broker is not None and broker.transitions.state == "started":
            await broker.shutdown()
