"""Detection time per profile through the real link (issue 4). Prints; asserts nothing.

    python bench/bench_link.py [--speed 20] [--runs 3]

For every virtual meter, from factory meter settings (auto everything): the device-clock
time from the line opening to meter status OK, over the in-process UART wire (where wrong
settings give real framing and parity errors) and over a pty (clean bytes whatever the
settings). The device runs `--speed` times faster than real time; times are in device
seconds, so they do not depend on the speed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emulator.app import EmulatorApp, provision_virtual_meter  # noqa: E402
from emulator.config import AppConfig  # noqa: E402
from emulator.device.clock import ScaledClock  # noqa: E402
from emulator.meter.line import Line  # noqa: E402
from emulator.meter.serial_line import SerialLine  # noqa: E402
from emulator.meter.serve import PtyMeterServer  # noqa: E402
from emulator.meter.virtual_line import VirtualLine  # noqa: E402
from emulator.runtime.backoff import Backoff  # noqa: E402
from meter_protocols.simulator.meter import VirtualMeter  # noqa: E402
from meter_protocols.simulator.profiles import PROFILES, get_profile  # noqa: E402

START = 1737543242.0
LIMIT = 60.0  # device seconds


async def time_to_ok(profile: str, speed: float, seed: int, pty: bool) -> float | None:
    clock = ScaledClock(speed, START)
    meter = VirtualMeter(get_profile(profile), seed=seed, start=clock.time())
    wire = VirtualLine(meter, clock, seed=seed)
    server: PtyMeterServer | None = None
    make: Callable[[], Line] = lambda: wire  # noqa: E731
    if pty:
        server = PtyMeterServer(meter, clock)
        path = await server.start()
        make = lambda: SerialLine(path)  # noqa: E731
    config = AppConfig(data_dir=Path(tempfile.mkdtemp(prefix="ww-link-")),
                       device_id="A842E39F8124")
    app = EmulatorApp(config, clock, line_factory=make, backoff=Backoff(0.1, 0.5), http=False)
    provision_virtual_meter(app.device, wire)
    reached = asyncio.get_running_loop().create_future()
    start = clock.monotonic()
    app.device.on_status(lambda s: s.value == "OK" and not reached.done()
                         and reached.set_result(clock.monotonic() - start))
    await app.start()
    try:
        return float(await asyncio.wait_for(reached, LIMIT / speed))
    except TimeoutError:
        return None
    finally:
        await app.stop()
        if server is not None:
            await server.stop()


def show(values: list[float | None]) -> str:
    done = [v for v in values if v is not None]
    if not done:
        return "    never"
    text = f"{statistics.median(done):6.2f} (max {max(done):5.2f})"
    return text + (f" {len(values) - len(done)} failed" if len(done) < len(values) else "")


async def main(args: argparse.Namespace) -> None:
    print(f"device seconds from line open to OK, median of {args.runs} runs (seeds 1..)")
    print(f"{'profile':20} {'line':14} {'every':>6}  {'UART wire':>22}  {'pty':>22}")
    for name, profile in sorted(PROFILES.items()):
        wire = [await time_to_ok(name, args.speed, s, False) for s in range(1, args.runs + 1)]
        pty = [await time_to_ok(name, args.speed, s, True) for s in range(1, args.runs + 1)]
        print(f"{name:20} {profile.line!s:14} {profile.interval:5g}s  {show(wire):>22}  "
              f"{show(pty):>22}")


if __name__ == "__main__":
    import logging

    logging.basicConfig(level=logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--speed", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3)
    asyncio.run(main(parser.parse_args()))
