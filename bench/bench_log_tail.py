"""The log tail's cost per logged line (issue 15). Prints its figures; asserts nothing.

    python bench/bench_log_tail.py [--lines 20000]

Figures, measured in one run so they compare as ratios: the time per device log line with
no tail, with the tails of 1 device and of 500 devices attached (a fleet), and a line of a
device among 500 against a line with one; the router looks a line's device up by id, so
the last ratio should stay near 1.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emulator.runtime.log_tail import TailRouter  # noqa: E402
from emulator.runtime.logs import device_log  # noqa: E402


def per_line(logger: logging.Logger, lines: int) -> float:
    """Seconds per line, the best of three runs (the machine is shared)."""
    log = device_log(logger.name, "A842E3000007")
    best = float("inf")
    for _run in range(3):
        start = time.perf_counter()
        for n in range(lines):
            log.info("meter status %s -> %s (%d)", "OK", "NO DATA", n)
        best = min(best, (time.perf_counter() - start) / lines)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=20000)
    args = parser.parse_args()
    logger = logging.getLogger("bench.log_tail")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    bare = per_line(logger, args.lines)
    router = TailRouter(logger)
    ids = [f"A842E3{n:06X}" for n in range(500)]
    tails = [router.attach(ids[7])]
    one = per_line(logger, args.lines)
    tails += [router.attach(device_id) for device_id in ids if device_id != ids[7]]
    fleet = per_line(logger, args.lines)
    for tail in tails:
        router.detach(tail)
    print(f"per device line, no tail:          {bare * 1e6:8.2f} us")
    print(f"per device line, 1 tail attached:  {one * 1e6:8.2f} us  ({one / bare:.2f}x bare)")
    print(f"per device line, 500 tails:        {fleet * 1e6:8.2f} us  "
          f"({fleet / one:.2f}x one tail)")


if __name__ == "__main__":
    main()
