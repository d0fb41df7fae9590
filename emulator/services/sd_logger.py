"""The SD-card logger (newer docs, 50-settings/sdcard/): while `services.sd.enable` is on,
one CSV row of the latest report every `services.sd.frequency` seconds (device clock, at
whole multiples of the period) into `YYYYMMDD.CSV`, named by the device-local date of the
moment the row is written, so the files roll over at local midnight.

Writes run in a thread (open, append, fsync, close per row). At every start the torn last
line a power cut may have left is cut off first. A failing write (a full card: ENOSPC) loses
that row only: the status says so (`full` among the facts), one log line says so, and the
next period tries again. The board's SD_CARD facts always carry the card's hardware facts
(installed, type, size, speed), which /api/v1/system shows.
"""

from __future__ import annotations

import asyncio
import errno
import math
from datetime import datetime
from typing import Any

from emulator.device.core import Device
from emulator.device.faces.csv_row import HEADER, RowContext, csv_row
from emulator.device.service_status import SD_CARD, Fact, ServiceState
from emulator.device.settings import sections
from emulator.device.settings.views import services_view
from emulator.services.base import LoopService
from emulator.services.sd_files import CardFiles


class SdLogger(LoopService):
    name = SD_CARD

    def __init__(self, device: Device, card: CardFiles | None) -> None:
        super().__init__(device)
        self.card = card
        self.rows = 0  # rows written since the service started
        self.lost = 0  # rows a failing card refused
        self._file = ""
        self._full = False

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        self._unsubscribe.append(self.device.settings.subscribe(sections.SYSTEM,
                                                                self._on_settings))
        await super().start()

    def _on_settings(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        if services_view(new).sd != services_view(old).sd:
            self.reload()

    def enabled(self) -> tuple[bool, str]:
        if self.card is None or not self.device.hardware.sd_card.installed:
            return False, "no SD card"
        if not self.device.settings.services.sd.enable:
            return False, "SD logging is off (services.sd.enable)"
        return True, ""

    def set_status(self, state: ServiceState, detail: str = "", **facts: Fact) -> None:
        """Every status carries the card's facts (/api/v1/system sd_card reads them)."""
        card = self.device.hardware.sd_card
        super().set_status(state, detail, installed=card.installed, type=card.type,
                           size=card.size, speed=card.speed, **facts)

    # --- the job --------------------------------------------------------------------------

    async def run(self) -> None:
        assert self.card is not None  # enabled() said so
        card = self.card
        cut = await asyncio.to_thread(card.repair)
        for name in cut:
            self.log.warning("SD card: torn last row of %s cut off (power cut?)", name)
        period = self.device.settings.services.sd.frequency
        self._running(period)
        clock = self.device.clock
        while True:
            now = clock.time()
            due = (math.floor(now / period) + 1) * period
            await clock.sleep_until(due)
            report = self.device.latest
            if report is None:
                continue  # nothing to record before the first report
            row = csv_row(report, RowContext(self.device.meter.status.value))
            name = datetime.fromtimestamp(clock.time(), self.device.zone).strftime(
                "%Y%m%d.CSV")
            try:
                await asyncio.to_thread(card.append_row, name, HEADER, row)
            except OSError as exc:
                self._write_failed(exc, period)
                continue
            self.rows += 1
            self._file = name
            self._full = False
            self._running(period)  # also logs that a failing card works again

    def _running(self, period: int) -> None:
        detail = f"a row every {period} s" + (f" into {self._file}" if self._file else "")
        self.mark_running(detail, file=self._file, rows=self.rows, lost=self.lost,
                          full=False)

    def _write_failed(self, exc: OSError, period: int) -> None:
        self.lost += 1
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
        self._full = full
        what = "card full" if full else f"write failed ({exc.strerror or exc})"
        self.quiet.problem(errno.errorcode.get(exc.errno or 0, "OSError"),
                           "SD card: %s; rows are lost until it is freed", what)
        self.set_status(ServiceState.RETRYING,
                        f"{what}: {self.lost} row(s) lost; trying again every {period} s",
                        file=self._file, rows=self.rows, lost=self.lost, full=full)
