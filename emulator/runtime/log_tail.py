"""The last lines each device logged, kept in memory for the web UI's log view.

A fleet runs many devices in one process and every device's lines go to the same loggers;
a device's own lines carry its id (`DeviceLog` writes `[DEVICEID] ` in front of the
message; a caller may also pass `device_id` in the record's extra). One handler on the
root logger, `TailRouter`, reads that id and hands the line to that device's `LogTail` (a
dictionary look-up, however many devices the process runs); lines of no open device are
dropped. A tail is a ring buffer of a fixed size, and a line is cut at `MAX_LINE`
characters: memory stays bounded however much a device logs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Final

#: Lines kept per device, and the longest line kept (characters).
CAPACITY: Final = 1000
MAX_LINE: Final = 500


class LogTail:
    """The last `capacity` log lines of one device, oldest first."""

    def __init__(self, device_id: str, capacity: int = CAPACITY) -> None:
        self.device_id = device_id
        self._prefix = f"[{device_id}] "
        self._lines: deque[str] = deque(maxlen=capacity)
        self.users = 0  # applications that opened this tail (TailRouter.attach)

    def add(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # arguments that do not fit the format
            message = str(record.msg)
        message = message.removeprefix(self._prefix).replace("\n", " ")
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.created))
        self._lines.append(f"{stamp} {record.levelname} {record.name}: {message}"[:MAX_LINE])

    def lines(self, count: int) -> list[str]:
        """The last `count` lines, oldest first."""
        if count <= 0:
            return []
        return list(self._lines)[-count:]


def record_device(record: logging.LogRecord) -> str | None:
    """The device a log record belongs to, if it says."""
    device_id = getattr(record, "device_id", None)
    if isinstance(device_id, str):
        return device_id
    msg = record.msg
    if isinstance(msg, str) and msg.startswith("["):
        end = msg.find("] ", 1, 80)
        if end > 0:
            return msg[1:end]
    return None


class TailRouter(logging.Handler):
    """Hands each log line of an open device to its tail; attached to `logger` (default:
    the root logger) while at least one tail is open."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        super().__init__(logging.NOTSET)
        self._logger = logger or logging.getLogger()
        self._tails: dict[str, LogTail] = {}
        # attach/detach come from event loops; emit only reads the dict (atomic in CPython).
        self._guard = threading.Lock()

    def attach(self, device_id: str, capacity: int = CAPACITY) -> LogTail:
        with self._guard:
            tail = self._tails.get(device_id)
            if tail is None:
                tail = self._tails[device_id] = LogTail(device_id, capacity)
            tail.users += 1
            first = len(self._tails) == 1 and tail.users == 1
        if first:
            self._logger.addHandler(self)
        return tail

    def detach(self, tail: LogTail) -> None:
        with self._guard:
            tail.users -= 1
            if tail.users <= 0:
                self._tails.pop(tail.device_id, None)
            last = not self._tails
        if last:
            self._logger.removeHandler(self)

    def is_open(self, device_id: str) -> bool:
        """Whether a tail of this device is open (some application holds it)."""
        return device_id in self._tails

    def emit(self, record: logging.LogRecord) -> None:
        device_id = record_device(record)
        tail = self._tails.get(device_id) if device_id is not None else None
        if tail is not None:
            tail.add(record)


#: The process's router: every application attaches its device's tail here.
ROUTER: Final = TailRouter()
