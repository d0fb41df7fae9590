"""The actions runner (manual 6.6.2, 6.6.3): the ActionsQueue port behind
/api/v1/actions/call and /status.

A call queues the enabled requests of one action; they run at once, concurrently, each in
its own task (HTTP with the service's aiohttp session, Modbus with a pymodbus TCP client
per request), so a slow target delays nothing but its own request. Refusals: unknown action
(404), disabled action or all its requests disabled (400), the action still running (409),
more than MAX_PENDING requests pending across all actions (429). Every request gets a
status entry (code -1 and exe_time 0 while it runs); the last STATUS_KEPT entries are kept.

Result codes: an HTTP request's is the HTTP status; a Modbus request's is 1 on success, or
-100 minus the exception code the target answered. Transport failures use the manual's
Modbus table for both kinds: -16 cannot resolve the host, -17 cannot connect, -3 no answer
within the timeout, -4 an answer that could not be received, -1 anything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import aiohttp

from emulator.device.actions_model import (
    CANNOT_CONNECT,
    CANNOT_RESOLVE,
    EXCEPTION_BASE,
    GENERIC_ISSUE,
    MAX_PENDING,
    MODBUS_SUCCESS,
    RECEIVE_ERROR,
    RECEIVE_TIMEOUT,
    RUNNING,
    STATUS_KEPT,
    ActionRefused,
    ActionsDefinition,
    ActionStatus,
    HttpRequest,
    ModbusRequest,
    Refusal,
    Request,
    modbus_write,
)
from emulator.device.core import Device
from emulator.device.service_status import ACTIONS
from emulator.services.base import LoopService

if TYPE_CHECKING:
    from pymodbus.client import AsyncModbusTcpClient

#: esp_http_client's own User-Agent, which the device sends unless a header sets another.
USER_AGENT = "ESP32 HTTP Client/1.0"
#: esp_http_client's Content-Type for a body when the action sets none.
FORM = "application/x-www-form-urlencoded"


def client_session() -> aiohttp.ClientSession:
    """The device's HTTP client: no cookies kept, esp_http_client's User-Agent."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar(),
                                 headers={"User-Agent": USER_AGENT})


class ActionsRunner(LoopService):
    name = ACTIONS

    def __init__(self, device: Device, session: aiohttp.ClientSession | None = None) -> None:
        super().__init__(device)
        #: A fleet's one client session for all its devices (made by client_session());
        #: not closed here. None: each run makes its own and closes it.
        self._shared = session
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._running: dict[str, set[int]] = {}  # action id -> its pending status ids
        self._status: OrderedDict[int, ActionStatus] = OrderedDict()
        self._next_id = 1

    def enabled(self) -> tuple[bool, str]:
        if not self.device.licensed:
            return False, "actions need a Plus licence"
        return True, ""

    async def run(self) -> None:
        self._status.clear()  # a (re)boot: status ids start again
        self._next_id = 1
        self._session = self._shared or client_session()
        self.mark_running("ready", pending=0)
        await asyncio.Event().wait()

    async def cleanup(self) -> None:
        tasks, self._tasks = set(self._tasks), set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._running.clear()
        session, self._session = self._session, None
        if session is not None and session is not self._shared:
            await session.close()

    # --- the port ---------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        return sum(len(ids) for ids in self._running.values())

    def call(self, action_id: str) -> list[int]:
        if self._session is None:
            raise ActionRefused(Refusal.UNAVAILABLE)
        definition = self.device.settings.actions
        action = definition.find(action_id) if definition is not None else None
        if definition is None or action is None:
            raise ActionRefused(Refusal.NOT_FOUND)
        requests = [r for r in action.requests if r.enable]
        if not action.enable or not requests:
            raise ActionRefused(Refusal.DISABLED)
        if self._running.get(action_id):
            raise ActionRefused(Refusal.BUSY)
        if self.pending + len(requests) > MAX_PENDING:
            raise ActionRefused(Refusal.FULL)
        ids: list[int] = []
        for request in requests:
            status_id = self._next_id
            self._next_id += 1
            ids.append(status_id)
            self._keep(ActionStatus(action_id, status_id, RUNNING, 0.0))
            self._running.setdefault(action_id, set()).add(status_id)
            task = asyncio.get_running_loop().create_task(
                self._execute(definition, action_id, status_id, request),
                name=f"action {action_id} request {status_id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self.log.info("action %s called: request(s) %s", action_id,
                      ",".join(map(str, ids)))
        self._publish()
        return ids

    def statuses(self, ids: Sequence[int]) -> list[ActionStatus]:
        return [self._status[i] for i in ids if i in self._status]

    # --- running a request ----------------------------------------------------------------

    def _keep(self, entry: ActionStatus) -> None:
        self._status[entry.id] = entry
        while len(self._status) > STATUS_KEPT:
            self._status.popitem(last=False)

    def _publish(self) -> None:
        if self._session is not None:
            self.mark_running("ready", pending=self.pending)

    async def _execute(self, definition: ActionsDefinition, action_id: str, status_id: int,
                       request: Request) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            if isinstance(request, HttpRequest):
                code = await self._http(definition, request)
            else:
                code = await _modbus(definition, request)
        except Exception as exc:  # a request's failure is its status only
            self.log.debug("action %s request %d failed", action_id, status_id, exc_info=True)
            self.quiet.problem(type(exc).__name__, "action %s: request failed: %s",
                               action_id, exc)
            code = GENERIC_ISSUE
        finally:
            pending = self._running.get(action_id)
            if pending is not None:
                pending.discard(status_id)
                if not pending:
                    del self._running[action_id]
        elapsed = loop.time() - started
        if status_id in self._status:
            self._status[status_id] = ActionStatus(action_id, status_id, code, elapsed)
        self.log.info("action %s request %d: code %d in %.3f s", action_id, status_id, code,
                      elapsed)
        self._publish()

    async def _http(self, definition: ActionsDefinition, request: HttpRequest) -> int:
        assert self._session is not None
        headers = dict(request.headers)
        body: bytes | None = None
        if request.method in ("POST", "PUT"):
            body = definition.text(request.payload).encode("utf-8")
            if not any(name.lower() == "content-type" for name in headers):
                headers["Content-Type"] = FORM
        try:
            async with self._session.request(
                    request.method, definition.text(request.url), data=body,
                    headers=headers, allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=request.timeout)) as response:
                return response.status
        except aiohttp.ClientConnectorDNSError:
            return CANNOT_RESOLVE
        except aiohttp.ClientConnectorError:
            return CANNOT_CONNECT
        except TimeoutError:
            return RECEIVE_TIMEOUT
        except aiohttp.ClientError:
            return RECEIVE_ERROR


async def _modbus(definition: ActionsDefinition, request: ModbusRequest) -> int:
    # pymodbus is imported on first use: it weighs ~0.1 s on every start otherwise.
    from pymodbus.client import AsyncModbusTcpClient  # noqa: PLC0415
    from pymodbus.exceptions import ModbusException, ModbusIOException  # noqa: PLC0415

    host = definition.text(request.host)
    write = modbus_write(request.func, request.type, definition.text(request.value))
    loop = asyncio.get_running_loop()
    try:
        await loop.getaddrinfo(host, request.port, type=socket.SOCK_STREAM)
    except OSError:
        return CANNOT_RESOLVE
    client = AsyncModbusTcpClient(host, port=request.port, timeout=request.timeout,
                                  retries=0, reconnect_delay=0)
    try:
        try:
            async with asyncio.timeout(request.timeout):
                connected = await client.connect()
        except TimeoutError:
            return CANNOT_CONNECT
        if not connected:
            return CANNOT_CONNECT
        try:
            async with asyncio.timeout(request.timeout):
                response = await _send(client, request, write)
        except (TimeoutError, ModbusIOException):
            return RECEIVE_TIMEOUT  # no answer
        except ModbusException:
            return RECEIVE_ERROR
        if response.isError():
            return EXCEPTION_BASE - int(getattr(response, "exception_code", 0))
        return MODBUS_SUCCESS
    finally:
        with contextlib.suppress(Exception):
            client.close()


async def _send(client: AsyncModbusTcpClient, request: ModbusRequest,
                write: bool | int | list[bool] | list[int]) -> Any:
    unit, address = request.unit_id, request.address
    if request.func == 5:
        return await client.write_coil(address, bool(write), device_id=unit)
    if request.func == 6:
        assert isinstance(write, int)
        return await client.write_register(address, write, device_id=unit)
    assert isinstance(write, list)
    if request.func == 15:
        return await client.write_coils(address, [bool(b) for b in write], device_id=unit)
    return await client.write_registers(address, [int(r) for r in write], device_id=unit)
