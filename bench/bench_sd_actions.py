"""Benchmarks of the SD logger and the actions runner (issue 12). Prints; asserts nothing.

    python bench/bench_sd_actions.py [--rows 2000] [--calls 500]

Figures, measured in one run so they compare as ratios:
- CSV rows built per second (the 64-column face) next to the report JSON object;
- rows appended per second to a day file with the logger's protocol (open, append, fsync,
  close) and without the fsync, on the temp dir's file system;
- action calls (one HTTP request each, to a local aiohttp server) completed per second,
  call to status, and the median exe_time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emulator.device.core import Device  # noqa: E402
from emulator.device.faces.csv_row import HEADER, RowContext, csv_row  # noqa: E402
from emulator.device.faces.report_json import report_object  # noqa: E402
from emulator.device.service_status import ACTIONS, ServiceStatus  # noqa: E402
from emulator.device.values import Report  # noqa: E402
from emulator.services.sd_files import CardFiles  # noqa: E402
from meter_protocols.readings import Interface  # noqa: E402
from tests.support import ManualClock, build_device, ensor_readings  # noqa: E402

ZONE = ZoneInfo("Europe/Zurich")


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s"


def bench_faces(rows: int) -> None:
    reading = ensor_readings(1)[0]
    report = Report(1, 1.0, 0.0, reading, Interface.P1)
    context = RowContext("OK")
    t0 = time.perf_counter()
    for _ in range(rows):
        csv_row(report, context)
    t1 = time.perf_counter()
    for _ in range(rows):
        report_object(report, ZONE)
    t2 = time.perf_counter()
    print(f"CSV row build       {rate(rows, t1 - t0):>12}   report JSON object "
          f"{rate(rows, t2 - t1):>12}   ratio {(t2 - t1) / (t1 - t0):.2f}")


def bench_appends(rows: int) -> None:
    row = csv_row(Report(1, 1.0, 0.0, ensor_readings(1)[0], Interface.P1), RowContext("OK"))
    with tempfile.TemporaryDirectory() as tmp:
        card = CardFiles(Path(tmp) / "card")
        t0 = time.perf_counter()
        for _ in range(rows):
            card.append_row("20250122.CSV", HEADER, row)
        t1 = time.perf_counter()
        path = Path(tmp) / "plain.csv"
        for _ in range(rows):
            with path.open("a") as f:
                f.write(row)
        t2 = time.perf_counter()
    print(f"row append + fsync  {rate(rows, t1 - t0):>12}   append, no fsync   "
          f"{rate(rows, t2 - t1):>12}   ({(t1 - t0) / rows * 1000:.2f} ms a row)")


async def board(device: Device, check: Callable[[ServiceStatus], bool]) -> None:
    """Await the actions runner's status satisfying `check`."""
    if check(device.services.get(ACTIONS)):
        return
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def listener(name: str, status: ServiceStatus) -> None:
        if name == ACTIONS and check(status) and not done.done():
            done.set_result(None)

    remove = device.services.subscribe(listener)
    try:
        await done
    finally:
        remove()


async def bench_actions(calls: int) -> None:
    from emulator.api import create_app  # noqa: PLC0415
    from emulator.services.actions import ActionsRunner  # noqa: PLC0415

    peer = web.Application()
    peer.router.add_get("/x", lambda _r: web.Response(text="ok"))
    peer_runner = web.AppRunner(peer, access_log=None)
    await peer_runner.setup()
    site = web.TCPSite(peer_runner, "127.0.0.1", 0)
    await site.start()
    port = peer_runner.addresses[0][1]
    with tempfile.TemporaryDirectory() as tmp:
        device = build_device(Path(tmp), ManualClock())
        runner = ActionsRunner(device)
        device.ports.actions = runner
        await runner.start()
        await board(device, lambda s: s.running)
        device.settings.post("actions", {"actions": [{"id": "a", "requests": [
            {"http": {"url": f"http://127.0.0.1:{port}/x"}}]}]})
        create_app(device)
        t0 = time.perf_counter()
        ids: list[int] = []
        for _ in range(calls):
            ids += runner.call("a")
            await board(device, lambda s: s.facts.get("pending") == 0)
        t1 = time.perf_counter()
        times = [s.exe_time for s in runner.statuses(ids[-40:])]
        await runner.stop()
    await peer_runner.cleanup()
    print(f"action calls        {rate(calls, t1 - t0):>12}   median exe_time "
          f"{statistics.median(times) * 1000:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    bench_faces(args.rows * 10)
    bench_appends(args.rows)
    asyncio.run(bench_actions(args.calls))


if __name__ == "__main__":
    main()
