"""The last lines a device logged, kept in memory for the web UI's log view.

A fleet runs many devices in one process and every device's lines go to the same loggers;
a device's own lines carry its id (`DeviceLog` writes `[DEVICEID] ` in front of the message
and, where a caller passes it, `device_id` in the record). `LogTail` is a logging handler
that keeps only the lines of one device, in a ring buffer of a fixed size: memory stays
bounded however much the device logs, and a line is cut at `MAX_LINE` characters.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import Final

#: Lines kept per device, and the longest line kept (characters).
CAPACITY: Final = 1000
MAX_LINE: Final = 500


class LogTail(logging.Handler):
    """Keeps the last `capacity` log lines of the device `device_id`."""

    def __init__(self, device_id: str, capacity: int = CAPACITY) -> None:
        super().__init__(logging.NOTSET)
        self.device_id = device_id
        self._prefix = f"[{device_id}] "
        self._lines: deque[str] = deque(maxlen=capacity)

    def mine(self, record: logging.LogRecord) -> bool:
        if getattr(record, "device_id", None) == self.device_id:
            return True
        return isinstance(record.msg, str) and record.msg.startswith(self._prefix)

    def emit(self, record: logging.LogRecord) -> None:
        if not self.mine(record):
            return
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a line whose arguments do not fit its format
            message = str(record.msg)
        message = message.removeprefix(self._prefix).replace("\n", " ")
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.created))
        line = f"{stamp} {record.levelname} {record.name}: {message}"
        self._lines.append(line[:MAX_LINE])

    def lines(self, count: int) -> list[str]:
        """The last `count` lines, oldest first."""
        if count <= 0:
            return []
        kept = list(self._lines)
        return kept[-count:]

    def attach(self, logger: logging.Logger | None = None) -> None:
        (logger or logging.getLogger()).addHandler(self)

    def detach(self, logger: logging.Logger | None = None) -> None:
        (logger or logging.getLogger()).removeHandler(self)
