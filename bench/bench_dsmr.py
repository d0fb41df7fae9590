"""P1 telegrams decoded per second: ours against bare dsmr-parser, the CRC counted apart.

    python bench/bench_dsmr.py [--telegrams 500]

The same telegrams (the ensor-ers virtual meter, DSMR 5 with a CRC line) go through:
- ours: DsmrDecoder.feed (bytes -> framing, CRC16/ARC check, MeterReading with every line);
- dsmr-parser: TelegramParser(V5).parse (str -> dict of objects), with its CRC check, and
  without it (apply_checksum_validation=False), which is its parsing alone;
- each CRC alone over the same telegrams: ours (meter_protocols.crc.crc16_arc, in C through
  crcmod-plus) and dsmr-parser's TelegramParser.crc16 (over the text).
Ratios: ours / dsmr-parser with its CRC (target >= 2, issue 17), and without CRCs on either
side (ours minus our CRC time against dsmr-parser without its check). Best of 3 passes.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from dsmr_parser import telegram_specifications
from dsmr_parser.parsers import TelegramParser

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_core import ZURICH, telegrams  # the same telegrams as the first bench

from meter_protocols.crc import crc16_arc
from meter_protocols.dsmr.decoder import DsmrDecoder
from meter_protocols.readings import FrameDecoded


def seconds(job: Callable[[], object], repeat: int = 3) -> float:
    """The best time of `repeat` passes (a shared machine disturbs some)."""
    job()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        job()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--telegrams", type=int, default=500)
    args = parser.parse_args()
    frames = telegrams(args.telegrams)
    texts = [f.decode("ascii") for f in frames]
    bodies = [f[:f.rindex(b"!") + 1] for f in frames]
    body_texts = [b.decode("ascii") for b in bodies]
    n = len(frames)

    def ours() -> None:
        decoder = DsmrDecoder(ZURICH)
        decoded = sum(isinstance(e, FrameDecoded) for f in frames for e in decoder.feed(f))
        assert decoded == n, decoded

    checked = TelegramParser(telegram_specifications.V5)
    unchecked = TelegramParser(telegram_specifications.V5, apply_checksum_validation=False)
    t_ours = seconds(ours)
    t_parser = seconds(lambda: [checked.parse(t) for t in texts])
    t_parser_bare = seconds(lambda: [unchecked.parse(t) for t in texts])
    t_our_crc = seconds(lambda: [crc16_arc(b) for b in bodies])
    t_their_crc = seconds(lambda: [TelegramParser.crc16(t) for t in body_texts])
    print(f"{n} telegrams of {len(frames[0])} bytes (ensor-ers, DSMR 5, CRC line)")
    for label, t in (("ours (bytes -> MeterReading, CRC checked)", t_ours),
                     ("dsmr-parser (str -> dict, CRC checked)", t_parser),
                     ("dsmr-parser without its CRC check", t_parser_bare),
                     ("CRC alone: ours (C, crcmod-plus)", t_our_crc),
                     ("CRC alone: dsmr-parser's crc16", t_their_crc)):
        print(f"{label:44s} {n / t:9.0f} telegrams/s  {t / n * 1e6:7.1f} us each")
    print(f"ratio ours / dsmr-parser, both with CRC     {t_parser / t_ours:9.2f}  (target >= 2)")
    print(f"ratio without CRCs (ours minus our CRC)     "
          f"{t_parser_bare / (t_ours - t_our_crc):9.2f}")
    print(f"ratio CRC ours / dsmr-parser's              {t_their_crc / t_our_crc:9.2f}")
    print(f"share of the CRC in ours {t_our_crc / t_ours:6.1%}, in dsmr-parser "
          f"{t_their_crc / t_parser:6.1%}")


if __name__ == "__main__":
    main()
