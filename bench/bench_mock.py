"""Benchmarks of the CI mock (issue 16): what a client's test pays for a device of the
pytest plugin. Prints its figures; asserts nothing.

    python bench/bench_mock.py [--devices 5] [--minutes 10]

Figures (wall time on this machine, medians over --devices devices):
- start: WhatwattDevice.start() until the meter reads OK (manual clock; the default);
- advance: device seconds per wall second for one advance(60 * minutes) of a 1-s meter
  (ensor-ers: one DSMR telegram a second decoded and reported), and for a 10-s one;
- a control request (GET /emulator/v1/state) and a report (GET /api/v1/report), median
  of 200 each;
- stop: stop() until the thread has ended.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emulator.testing import DeviceOptions, WhatwattDevice  # noqa: E402


def timed(action: object) -> float:
    started = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=5)
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    span = 60.0 * args.minutes
    figures: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.devices):
            for profile in ("ensor-ers", "lg-e450"):
                device = WhatwattDevice(Path(tmp) / f"{profile}{n}",
                                        DeviceOptions(profile=profile))
                figures.setdefault(f"start {profile}", []).append(timed(device.start))
                wall = timed(lambda d=device: d.advance(span))
                figures.setdefault(f"advance {profile} (device s per wall s)", []).append(
                    span / wall)
                if profile == "ensor-ers":
                    figures.setdefault("GET /emulator/v1/state (ms)", []).append(1000 * (
                        statistics.median(timed(device.state) for _ in range(200))))
                    figures.setdefault("GET /api/v1/report (ms)", []).append(1000 * (
                        statistics.median(timed(device.report) for _ in range(200))))
                figures.setdefault("stop", []).append(timed(device.stop))
    for name, values in figures.items():
        print(f"{name:45} median {statistics.median(values):9.3f}  "
              f"min {min(values):9.3f}  max {max(values):9.3f}")


if __name__ == "__main__":
    main()
