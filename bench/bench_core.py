"""Benchmarks of the first complete path (issue 2). Prints its figures; asserts nothing.

    python bench/bench_core.py [--rss-seconds 60] [--latency-count 300] [--http-seconds 5]

Figures, measured in one run so they compare as ratios:
- DSMR decode rate, ours and bare dsmr-parser on the same telegrams;
- report build rate (report object + JSON);
- latency from the last byte of a telegram written on a pty to the SSE event at a client
  (emulator in its own process, median and p99);
- GET /api/v1/report requests per second next to a minimal aiohttp JSON handler served by
  the same process, and their ratio;
- start-up time to the first 200, and the emulator's RSS after it has run a while.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import textwrap
import time
import tty
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from dsmr_parser import telegram_specifications
from dsmr_parser.parsers import TelegramParser

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emulator.device.faces.report_json import report_object  # noqa: E402
from emulator.device.values import Report  # noqa: E402
from meter_protocols.dsmr.decoder import DsmrDecoder  # noqa: E402
from meter_protocols.readings import FrameDecoded, Interface  # noqa: E402
from meter_protocols.simulator.meter import VirtualMeter  # noqa: E402
from meter_protocols.simulator.profiles import get_profile  # noqa: E402

ZURICH = ZoneInfo("Europe/Zurich")
START = 1737543242.0


def telegrams(count: int) -> list[bytes]:
    meter = VirtualMeter(get_profile("ensor-ers"), seed=1, start=START, zone=ZURICH)
    out = []
    for _ in range(count):
        due = meter.next_push_at()
        assert due is not None
        out.append(meter.push(due))
    return out


def rate(fn: object, items: list[bytes], repeat: int = 3) -> float:
    best = 0.0
    for _ in range(repeat):
        t0 = time.perf_counter()
        for item in items:
            fn(item)  # type: ignore[operator]
        best = max(best, len(items) / (time.perf_counter() - t0))
    return best


def bench_decoders() -> None:
    frames = telegrams(500)
    decoder = DsmrDecoder(ZURICH)
    ours = rate(decoder.feed, frames)
    parser = TelegramParser(telegram_specifications.V5)
    texts = [f.decode("ascii") for f in frames]
    theirs = rate(parser.parse, texts)  # type: ignore[arg-type]
    print(f"DSMR decode, ours (bytes -> MeterReading)   {ours:9.0f} telegrams/s")
    print(f"DSMR decode, bare dsmr-parser (str -> dict) {theirs:9.0f} telegrams/s")
    print(f"  ratio ours / dsmr-parser                  {ours / theirs:9.2f}")
    reading = next(e for e in decoder.feed(frames[0]) if isinstance(e, FrameDecoded)).reading
    reports = [Report(i, 1.0, START + i, reading, Interface.P1) for i in range(2000)]
    t0 = time.perf_counter()
    for report in reports:
        json.dumps(report_object(report, ZURICH), separators=(",", ":"))
    built = len(reports) / (time.perf_counter() - t0)
    print(f"report build (object + JSON)                {built:9.0f} reports/s")


async def start_device(*args: str) -> tuple[asyncio.subprocess.Process, str, float]:
    data = tempfile.mkdtemp(prefix="ww-bench-")
    t0 = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "emulator", "--http", "127.0.0.1:0", "--data-dir", data,
        "--log-level", "WARNING", *args, cwd=ROOT, stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    line = (await proc.stdout.readline()).decode().strip()
    url = line.removeprefix("whatwatt-emulator: serving ")
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(url + "/api/v1/system") as response:
                    if response.status == 200:
                        break
            except aiohttp.ClientError:
                await asyncio.sleep(0.005)
    return proc, url, time.perf_counter() - t0


async def stop(proc: asyncio.subprocess.Process) -> None:
    proc.terminate()
    await proc.wait()


async def bench_latency(count: int) -> None:
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    os.close(slave)
    proc, url, _ = await start_device("--meter", path)
    frames = telegrams(count + 20)
    latencies: list[float] = []
    async with aiohttp.ClientSession() as session, \
            session.get(url + "/api/v1/live") as response:
        await asyncio.sleep(0.5)
        for i, frame in enumerate(frames):
            os.write(master, frame)
            sent = time.perf_counter()
            while True:
                line = await response.content.readline()
                if line.startswith(b"data: "):
                    break
            if i >= 20:  # warm-up done
                latencies.append((time.perf_counter() - sent) * 1000)
            await asyncio.sleep(0.02)
    await stop(proc)
    os.close(master)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"line -> SSE latency over {len(latencies)} telegrams: median "
          f"{statistics.median(latencies):.2f} ms, p99 {p99:.2f} ms, max {latencies[-1]:.2f} ms")


SERVER = textwrap.dedent("""
    import asyncio, sys, tempfile
    from pathlib import Path
    from aiohttp import web
    sys.path.insert(0, sys.argv[1])
    from emulator.app import EmulatorApp
    from emulator.config import AppConfig

    async def minimal(request):
        return web.json_response({"ok": True, "value": 1.234})

    async def main():
        app = EmulatorApp(AppConfig(http_port=0, data_dir=Path(tempfile.mkdtemp())))
        await app.start()
        # The baseline: a bare aiohttp application (no middlewares) in the same process.
        bare = web.Application()
        bare.router.add_get("/bench/minimal", minimal)
        runner = web.AppRunner(bare, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        print(app.url, f"http://127.0.0.1:{port}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())
""")


async def hammer(session: aiohttp.ClientSession, url: str, seconds: float,
                 workers: int = 16) -> float:
    done = 0
    end = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < end:
            async with session.get(url) as response:
                await response.read()
            done += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return done / (time.perf_counter() - t0)


async def bench_http(seconds: float) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SERVER, str(ROOT), stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    url, bare_url = (await proc.stdout.readline()).decode().split()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32)) as session:
        await asyncio.sleep(2)  # a few reports exist
        await hammer(session, url + "/api/v1/report", 1)  # warm-up
        report = await hammer(session, url + "/api/v1/report", seconds)
        minimal = await hammer(session, bare_url + "/bench/minimal", seconds)
    await stop(proc)
    print(f"GET /api/v1/report                          {report:9.0f} requests/s")
    print(f"GET minimal aiohttp JSON handler (bare app) {minimal:9.0f} requests/s")
    print(f"  ratio report / minimal                    {report / minimal:9.2f}")


async def bench_process(rss_seconds: float) -> None:
    proc, _, startup = await start_device()
    print(f"start-up to the first 200                   {startup * 1000:9.0f} ms")
    await asyncio.sleep(rss_seconds)
    status = await asyncio.to_thread(Path(f"/proc/{proc.pid}/status").read_text)
    rss_kb = int(next(ln for ln in status.splitlines() if ln.startswith("VmRSS")).split()[1])
    print(f"RSS after {rss_seconds:.0f} s                            {rss_kb / 1024:9.1f} MB")
    await stop(proc)


async def main(args: argparse.Namespace) -> None:
    bench_decoders()
    await bench_latency(args.latency_count)
    await bench_http(args.http_seconds)
    await bench_process(args.rss_seconds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rss-seconds", type=float, default=60.0)
    parser.add_argument("--latency-count", type=int, default=300)
    parser.add_argument("--http-seconds", type=float, default=5.0)
    asyncio.run(main(parser.parse_args()))
