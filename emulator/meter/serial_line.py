"""Real serial ports, ptys and socket:// URLs, through serialx."""

from __future__ import annotations

import errno
import logging
from typing import Any

import serialx

from emulator.meter.line import Chunk, LineClosed, LineUnavailable
from meter_protocols.line import LineSettings, Parity
from meter_protocols.readings import Interface
from meter_protocols.uart import LineProbe

_LOG = logging.getLogger(__name__)

_PARITY = {Parity.NONE: serialx.Parity.NONE, Parity.ODD: serialx.Parity.ODD,
           Parity.EVEN: serialx.Parity.EVEN}
_STOP = {1.0: serialx.StopBits.ONE, 1.5: serialx.StopBits.ONE_POINT_FIVE,
         2.0: serialx.StopBits.TWO}
READ_SIZE = 4096


def _serial_kwargs(settings: LineSettings) -> dict[str, Any]:
    return {"baudrate": settings.baudrate, "parity": _PARITY[settings.parity],
            "stopbits": _STOP[settings.stop_bits], "byte_size": settings.data_bits}


_WHY: dict[int, str] = {
    errno.ENOENT: "no such device: check the cable and the path (ls /dev/serial/by-id/)",
    errno.ENODEV: "no such device: check the cable and the path (ls /dev/serial/by-id/)",
    errno.ENXIO: "no such device: check the cable and the path (ls /dev/serial/by-id/)",
    errno.EACCES: "permission denied: add the user to the dialout group (sudo usermod -aG "
                  "dialout $USER, then log in again)",
    errno.EPERM: "permission denied: add the user to the dialout group (sudo usermod -aG "
                 "dialout $USER, then log in again)",
    errno.EBUSY: "the port is busy: another program has it open",
    errno.ECONNREFUSED: "connection refused: is ser2net or the dongle listening on that port?",
    errno.EHOSTUNREACH: "host unreachable: check the address",
    errno.ETIMEDOUT: "no answer from the host: check the address",
}


def why_unavailable(exc: BaseException) -> str:
    """Why a port cannot be opened, in words with the fix, from the error or its causes."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in _WHY:
            return _WHY[seen.errno]
        seen = seen.__cause__ or seen.__context__
    return str(exc) or type(exc).__name__


class SerialLine:
    """A port by path (/dev/ttyUSB0, /dev/pts/3) or URL (socket://host:port)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._serial: serialx.AsyncSerial | None = None
        self.settings: LineSettings | None = None

    @property
    def name(self) -> str:
        return self.url

    @property
    def interface(self) -> Interface:
        return Interface.NONE

    def probe(self) -> LineProbe | None:
        return None  # no electrical view of the line here

    @property
    def reconfigurable(self) -> bool:
        return not self.url.startswith(("socket://", "tcp://", "rfc2217://"))

    async def open(self, settings: LineSettings) -> None:
        serial = serialx.async_serial_for_url(self.url, **_serial_kwargs(settings))
        try:
            await serial.open()
        except (OSError, serialx.SerialException, ValueError) as exc:
            raise LineUnavailable(why_unavailable(exc)) from exc
        self._serial = serial
        self.settings = settings

    async def read(self) -> Chunk:
        if self._serial is None:
            raise LineClosed(f"{self.url} is not open")
        try:
            data: bytes = await self._serial.read(READ_SIZE)
        except (OSError, serialx.SerialException) as exc:
            raise LineClosed(f"{self.url}: {exc}") from exc
        if not data:
            raise LineClosed(f"{self.url}: end of stream")
        return Chunk(data)

    async def write(self, data: bytes) -> None:
        if self._serial is None:
            raise LineClosed(f"{self.url} is not open")
        try:
            await self._serial.write(data)
        except (OSError, serialx.SerialException) as exc:
            raise LineClosed(f"{self.url}: {exc}") from exc

    async def reconfigure(self, settings: LineSettings) -> None:
        """Change the port's settings in place (serialx reconfigure_port). A pty refuses
        parity and data-bit changes; the line then carries on with what it can do."""
        if self._serial is None:
            return
        kwargs = _serial_kwargs(settings)
        try:
            await self._serial.reconfigure_port(**kwargs)
        except (OSError, serialx.SerialException, ValueError) as exc:
            _LOG.info("%s refused %s (%s); trying the baud rate alone", self.url, settings, exc)
            try:
                await self._serial.reconfigure_port(baudrate=settings.baudrate)
            except (OSError, serialx.SerialException, ValueError) as inner:
                _LOG.info("%s refused the baud rate too: %s", self.url, inner)
        self.settings = settings

    async def close(self) -> None:
        serial, self._serial = self._serial, None
        if serial is not None:
            try:
                await serial.close()
            except (OSError, serialx.SerialException) as exc:
                _LOG.debug("closing %s: %s", self.url, exc)
