"""Fleet benchmark (issue 17): N ensor-ers devices in one `whatwatt-emulator fleet` process,
each reporting once a second and publishing to the fleet's embedded MQTT broker every 10 s.
Prints its figures next to the targets; asserts nothing.

    python bench/bench_fleet.py [--devices 100,300,500] [--seconds 30] [--mdns]

The fleet runs in its own process, started through the command line; this process is the
client. For each N:
- start: from spawning the process to its `fleet index` line (every device serving);
- CPU cores used and ms of CPU per device-second: the CPU time of the fleet's process and
  its children (the MQTT broker runs in one) over the measured window (psutil), divided by
  the window and by N;
- RSS per device: the RSS of the fleet and its children / N, and the marginal figure
  (RSS(N) - RSS(1 device))/(N-1);
- reports received / expected: the growth of each device's report id between two reads,
  against the seconds between those reads (a report a second);
- on time: the share of sampled report intervals within 100 ms of the meter's 1 s, and the
  p95 of |interval - 1 s| (the device's own `report.interval`), sampled in a window that
  starts 3 s after the burst of N report-id reads (which is the bench's, not a workload);
- p99 GET latency of /api/v1/report, polled by this process at ~100 requests/s in total;
- MQTT messages received / expected (N x window / 10 s), counted by a subscriber.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import aiomqtt
import psutil

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "whatwatt-emulator: fleet index "
MQTT_INTERVAL = 10
POLL_RATE = 100.0  # GET requests per second, all devices together
ON_TIME = 0.1  # seconds from the nominal 1 s interval
SETTLE = 3.0  # seconds between the burst of report-id reads and the measured window


@dataclass
class Figures:
    devices: int
    start_s: float
    cores: float
    ms_per_device_s: float
    ms_per_report: float
    rss_mb: float
    reports: float
    on_time: float
    jitter_p95_ms: float
    get_p99_ms: float
    mqtt: float
    failed: int


async def report_ids(client: aiohttp.ClientSession, urls: list[str]) -> list[tuple[float, int]]:
    gate = asyncio.Semaphore(50)

    async def one(url: str) -> tuple[float, int]:
        async with gate, client.get(url + "/api/v1/report") as response:
            body = await response.json()
            return time.monotonic(), int(body["report"]["id"])
    return list(await asyncio.gather(*(one(u) for u in urls)))


async def poll(client: aiohttp.ClientSession, urls: list[str], seconds: float,
               latencies: list[float], intervals: list[float]) -> None:
    tasks: set[asyncio.Task[None]] = set()

    async def one(url: str) -> None:
        t0 = time.perf_counter()
        try:
            async with client.get(url + "/api/v1/report") as response:
                body = await response.json()
        except (aiohttp.ClientError, TimeoutError):
            latencies.append(float("inf"))  # a failed request counts as the slowest
            return
        latencies.append(time.perf_counter() - t0)
        interval = body["report"].get("interval")
        if isinstance(interval, (int, float)) and interval > 0:
            intervals.append(float(interval))

    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        task = asyncio.ensure_future(one(urls[i % len(urls)]))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        i += 1
        await asyncio.sleep(1 / POLL_RATE)
    await asyncio.gather(*tasks)


async def count_mqtt(port: int, counter: list[int]) -> None:
    async with aiomqtt.Client("127.0.0.1", port, identifier="bench-fleet") as sub:
        await sub.subscribe("whatwatt/#")
        async for _ in sub.messages:
            counter[0] += 1


def family(proc: psutil.Process) -> list[psutil.Process]:
    """The fleet's process and its children (the MQTT broker runs in one)."""
    return [proc, *proc.children(recursive=True)]


def cpu_seconds(proc: psutil.Process) -> float:
    """User + system CPU of the fleet and its children so far."""
    total = 0.0
    for p in family(proc):
        with contextlib.suppress(psutil.NoSuchProcess):
            times = p.cpu_times()
            total += times.user + times.system
    return total


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(n: int, seconds: float, mdns: bool) -> Figures:
    data = tempfile.mkdtemp(prefix="bench-fleet-")
    args = [sys.executable, "-m", "emulator", "fleet", "--devices", str(n), "--http",
            "127.0.0.1:0", "--data-dir", data, "--profiles", "ensor-ers", "--mqtt-broker", "0",
            "--mqtt-interval", str(MQTT_INTERVAL), "--log-level", "ERROR"]
    if not mdns:
        args.append("--no-mdns")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WHATWATT_")}
    t0 = time.monotonic()
    process = await asyncio.create_subprocess_exec(*args, cwd=ROOT, env=env,
                                                   stdout=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 300)).decode().strip()
        start_s = time.monotonic() - t0
        if not line.startswith(PREFIX):
            raise SystemExit(f"the fleet did not start: {line!r}")
        index = line.removeprefix(PREFIX)
        proc = psutil.Process(process.pid)
        async with aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=200),
                timeout=aiohttp.ClientTimeout(total=20)) as client:
            async with client.get(index) as response:
                listing: list[dict[str, Any]] = await response.json()
            urls = [d["url"] for d in listing if d["status"] == "serving"]
            async with client.get(urls[0] + "/api/v1/mqtt/settings") as response:
                port = int((await response.json())["url"].rsplit(":", 1)[1])
            counter = [0]
            counting = asyncio.ensure_future(count_mqtt(port, counter))
            await asyncio.sleep(3)  # warm-up: every meter found, the subscriber connected
            before = await report_ids(client, urls)
            # Reading every device's report id at once is a burst no workload here has
            # (N requests in a moment, each encoding a new report): let the loop settle
            # before the window whose intervals, latencies and CPU are measured.
            await asyncio.sleep(SETTLE)
            cpu0, w0, m0 = cpu_seconds(proc), time.monotonic(), counter[0]
            latencies: list[float] = []
            intervals: list[float] = []
            await poll(client, urls, seconds, latencies, intervals)
            cpu1, w1, m1 = cpu_seconds(proc), time.monotonic(), counter[0]
            after = await report_ids(client, urls)
            rss = sum(p.memory_info().rss for p in family(proc))
            counting.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError, TimeoutError):
                await asyncio.wait_for(counting, 5)
    finally:
        process.terminate()
        await process.wait()
    cpu = cpu1 - cpu0
    window = w1 - w0
    received = sum(b[1] - a[1] for a, b in zip(before, after, strict=True))
    expected = sum(b[0] - a[0] for a, b in zip(before, after, strict=True))
    jitter = [abs(i - 1.0) for i in intervals]
    return Figures(
        devices=n, start_s=start_s, cores=cpu / window, ms_per_device_s=cpu * 1000 / window / n,
        # CPU per second over reports per second: the reports are counted between each
        # device's two reads, a window longer than the CPU's when the reads are slow.
        ms_per_report=(cpu * 1000 / window) / max(1e-9, received * n / max(1e-9, expected)),
        rss_mb=rss / n / 2**20, reports=received / expected,
        on_time=sum(1 for j in jitter if j <= ON_TIME) / max(1, len(jitter)),
        jitter_p95_ms=pct(jitter, 0.95) * 1000, get_p99_ms=pct(latencies, 0.99) * 1000,
        mqtt=(m1 - m0) / (n * window / MQTT_INTERVAL), failed=n - len(urls))


def show(f: Figures, base_rss: float | None) -> None:
    print(f"  (load average now {os.getloadavg()[0]:.1f})")
    # Devices one core carries at the full rate: from the CPU per report actually built
    # (a saturated loop builds fewer reports, and its CPU per device-second looks low).
    per_core = 1000 / f.ms_per_report if f.ms_per_report else float("inf")
    marginal = "" if base_rss is None or f.devices < 2 else \
        f", marginal {(f.rss_mb * f.devices - base_rss) / (f.devices - 1):.2f} MB"
    print(f"N = {f.devices} ensor-ers devices{f' ({f.failed} failed)' if f.failed else ''}")
    print(f"  start to serving          {f.start_s:8.1f} s        target <= 30 s for 500")
    print(f"  CPU cores used            {f.cores:8.2f}")
    print(f"  CPU per device-second     {f.ms_per_device_s:8.2f} ms; per report built "
          f"{f.ms_per_report:.2f} ms -> {per_core:.0f} devices/core (target >= 500)")
    print(f"  RSS per device            {f.rss_mb:8.2f} MB{marginal}   target <= 1 MB")
    print(f"  reports received/expected {f.reports:8.3f}          target >= 0.99")
    print(f"  reports on time (±100 ms) {f.on_time:8.3f}          target >= 0.99")
    print(f"  p95 interval jitter       {f.jitter_p95_ms:8.1f} ms")
    print(f"  p99 GET /api/v1/report    {f.get_p99_ms:8.1f} ms")
    print(f"  MQTT received/expected    {f.mqtt:8.3f}", flush=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--devices", default="100,300,500",
                        help="comma-separated fleet sizes (now %(default)s)")
    parser.add_argument("--seconds", type=float, default=30.0,
                        help="measured window per size (now %(default)s)")
    parser.add_argument("--mdns", action="store_true", help="advertise every device too")
    args = parser.parse_args()
    sizes = [int(s) for s in args.devices.split(",") if s.strip()]
    print(f"machine: {psutil.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
          f"window {args.seconds:g} s; "
          f"GET polling at {POLL_RATE:g}/s; mDNS {'on' if args.mdns else 'off'}")
    one = await measure(1, min(args.seconds, 5.0), args.mdns)
    base_rss = one.rss_mb
    print(f"1 device: RSS {base_rss:.1f} MB (the process's own share, for the marginal)")
    for n in sizes:
        show(await measure(n, args.seconds, args.mdns), base_rss)


if __name__ == "__main__":
    asyncio.run(main())
