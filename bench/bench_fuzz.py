"""Mutation fuzzing of every meter decoder, with the figures issue 10 asks for.

For each decoder (DSMR, HDLC, M-Bus, raw APDU, DLMS auto framing, KMP poller and meter,
the detector's sniffers): N mutated frames (bit flips, truncation, insertion, deletion,
long runs, length fields that lie, runs of frame starts, splices; half of them under
recomputed check sequences) fed as 4 kB reads. Prints the exceptions that escaped
feed() (must be 0) and the ones the net of meter_protocols.guard caught (must be 0 too),
the worst time of one 4 kB feed, the most bytes a decoder held, and the growth of traced
memory over a shorter run (tracemalloc slows everything, so it gets its own pass).

Then the worst inputs known (tests/meter_protocols/test_linear.py), one 4 kB read each
and 16 kB, to show the time per byte stays flat.

Run: python bench/bench_fuzz.py [--frames N] [--memory-frames N] [--seed S]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.meter_protocols.fuzz import run, targets
from tests.meter_protocols.test_linear import CASES, DECODERS


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--memory-frames", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()

    print(f"{'decoder':<11} {'frames':>8} {'MB':>7} {'escaped':>7} {'net':>4} "
          f"{'max 4 kB feed':>13} {'held':>6} {'memory growth':>13} {'time':>7}")
    failed = False
    for target in targets():
        began = time.perf_counter()
        result = run(target, args.frames, args.seed, timed=True)
        took = time.perf_counter() - began
        traced = run(target, args.memory_frames, args.seed + 1, traced=True)
        failed |= bool(result.escaped or result.faults or traced.escaped or traced.faults)
        held = max(result.max_buffered, traced.max_buffered)
        print(f"{target.name:<11} {result.frames:>8} {result.bytes / 1e6:>7.1f} "
              f"{result.escaped + traced.escaped:>7} {result.faults + traced.faults:>4} "
              f"{result.max_feed_4k * 1000:>10.1f} ms {held:>6} "
              f"{traced.memory_growth / 1024:>10.1f} kB {took:>6.0f}s", flush=True)
        if result.first_error or traced.first_error:
            print(f"    first: {result.first_error or traced.first_error}")

    print("\nworst inputs known, one read (time per 4 kB read; linear means flat)")
    for name, pattern in CASES:
        row = []
        for size in (4096, 16384):
            data = pattern(size)
            feed = DECODERS[name]()
            began = time.perf_counter()
            feed(data)
            row.append((time.perf_counter() - began) * 4096 / size * 1000)
        print(f"  {name:<10} {pattern(12)[:12].hex(' '):<36} "
              f"4 kB: {row[0]:6.2f} ms   16 kB: {row[1]:6.2f} ms per 4 kB")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
