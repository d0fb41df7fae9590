"""Detection time per profile and UART model throughput.

    python bench/bench_detect.py [--throughput]   (--throughput: the UART model only)

For each profile: the simulated time from factory settings (auto everything) to meter
status OK, through the product's own link supervisor on a virtual clock, over the virtual
UART wire (the reader sees the errors of wrong settings), with and without the electrical
line probe. (bench_link.py measures the same in real time, also over a real pty.)
Then the UART model's throughput in bytes per second of meter data, for matched settings
(fast path and forced slow path, at 115200 and at 2400 8E1, where a 1 kB frame takes 4.6 s
and is read in 230 pieces of 20 ms) and mismatched ones.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from meter_protocols.line import LineSettings
from meter_protocols.simulator.profiles import PROFILES, get_profile
from meter_protocols.status import MeterStatus
from meter_protocols.uart import VirtualWire
from tests.emulator.meter.detection_sim import simulate


def detection() -> None:
    print("simulated time from factory settings to OK (s)")
    print(f"{'profile':22s} {'line':12s} {'interval':>8s} {'probe':>7s} {'blind':>7s}"
          f"  candidates tried (with the probe)")
    worst = 0.0
    for name in sorted(PROFILES):
        prof = get_profile(name)
        times = []
        tried = ""
        for probe in (True, False):
            result = asyncio.run(simulate(name, duration=60, stop_on_ok=True, probe=probe))
            ok = result.first(MeterStatus.OK)
            times.append(f"{ok:7.2f}" if ok is not None else "  never")
            if probe:
                tried = " -> ".join(line for _, line in result.tried)
                worst = max(worst, ok if ok is not None else float("inf"))
        print(f"{name:22s} {prof.line!s:12s} {prof.interval:8.1f} {' '.join(times)}  {tried}")
    print(f"slowest profile on the wire: {worst:.2f} s (target <= 20 s)")


def throughput() -> None:
    print("\nUART model throughput (meter bytes per second of CPU time)")
    data = bytes(range(256)) * 40  # 10 kB, every byte value
    cases = [
        ("115200 8N1", "115200 8N1", True, "matched, fast path"),
        ("115200 8N1", "115200 8N1", False, "matched, sampled (slow path)"),
        ("2400 8E1", "2400 8E1", True, "matched 2400 8E1, fast path"),
        ("2400 8E1", "2400 8E1", False, "matched 2400 8E1, sampled"),
        ("9600 7E1", "115200 8N1", True, "7E1 meter read at 115200 (breaks)"),
        ("115200 8N1", "2400 8E1", True, "115200 meter read at 2400 8E1"),
        ("2400 8E1", "2400 8N1", True, "8E1 read as 8N1"),
        ("115200 8N1 inverted", "115200 8N1", True, "inverted line"),
    ]
    for tx, rx, fast, label in cases:
        best = float("inf")
        for _ in range(3):
            wire = VirtualWire(LineSettings.parse(tx), LineSettings.parse(rx), fast_path=fast)
            start = time.perf_counter()
            end = 0.0
            for i in range(0, len(data), 1024):  # 1 kB frames, read in 20 ms steps
                end = wire.send(data[i:i + 1024], end + 0.05)
            t = 0.0
            while t < end + 0.1:
                t += 0.02  # as the virtual line hands characters over (RX_CHUNK)
                wire.read(t)
            best = min(best, time.perf_counter() - start)
        print(f"{label:36s} {len(data) / best:12,.0f} B/s")


if __name__ == "__main__":
    logging.basicConfig(level=logging.CRITICAL)
    if "--throughput" not in sys.argv:
        detection()
    throughput()
