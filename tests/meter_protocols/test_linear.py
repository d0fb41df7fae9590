"""Issue 10, meter side: every feed is linear in its input, whatever the bytes.

Work is counted in Python lines executed (tests/meter_protocols/work.py), never timed:
the work of the next n bytes must be about the work of the first n (work.growth), and no
input byte may cost more than a fixed number of lines. The inputs are the worst
ones known for each framer: frame starts whose length field points far ahead, closing
flags where a length lands, frames that never end, APDUs whose decoding fails at the end.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from meter_protocols.detect.sniff import sniff
from meter_protocols.dlms import DlmsDecoder
from meter_protocols.dsmr.decoder import DsmrDecoder
from meter_protocols.kmp.poller import KmpPoller
from tests.meter_protocols.work import growth, lines_executed

#: The module, not the function meter_protocols.detect exports under the same name.
sniff_module = importlib.import_module("meter_protocols.detect.sniff")

#: Lines of meter_protocols a byte may cost at most (a good frame costs about 10-30).
LINES_PER_BYTE = 120
#: work.growth: 2 when linear, 4 when quadratic.
MAX_GROWTH = 2.8


def _repeat(pattern: bytes, n: int) -> bytes:
    return (pattern * (n // len(pattern) + 1))[:n]


def _raw_chain(n: int) -> bytes:
    """Raw APDUs where every 20th byte starts a data-notification that decodes in step
    with the first one up to the end, where an unknown tag (0x07) breaks all of them:
    each one's date-time covers the octet string in which the others' array begins, and
    the arrays claim more elements than the input holds (but fewer than its bytes)."""
    count = (n // 2).to_bytes(2, "big")
    period = b"\x0f\x00\x00\x00\x00\x09\x0d" + bytes(8) + b"\x01\x82" + count + b"\x00"
    return _repeat(period, (n - 1) // len(period) * len(period)) + b"\x07"


def _long_notification(n: int) -> bytes:
    """The start of a data-notification whose 512 structures are longer than any input
    here, so every new chunk leaves it incomplete."""
    head = b"\x0f\x00\x00\x00\x01\x00\x01\x82\x02\x00"
    return head + _repeat(b"\x02\x06\x11\x01\x11\x02\x11\x03\x11\x04\x11\x05\x11\x06",
                          n - len(head))


def _p1_no_end(n: int) -> bytes:
    return b"/ESR5\r\n\r\n" + _repeat(b"1-0:1.8.1(000001.000*kWh)\r\n", n - 9)


Feeder = Callable[[bytes], Any]


def _kmp_feeder(poller: KmpPoller) -> Feeder:
    return lambda data: poller.feed(data, 0.0)


DECODERS: dict[str, Callable[[], Feeder]] = {
    "dlms-auto": lambda: DlmsDecoder().feed,
    "hdlc": lambda: DlmsDecoder(framing="hdlc").feed,
    "mbus": lambda: DlmsDecoder(framing="mbus").feed,
    "raw": lambda: DlmsDecoder(framing="raw").feed,
    "dsmr": lambda: DsmrDecoder().feed,
    "kmp": lambda: _kmp_feeder(KmpPoller(start=0.0)),
}

CASES: list[tuple[str, Callable[[int], bytes]]] = [
    ("dlms-auto", lambda n: _repeat(b"\x7e\xa7\xff", n)),  # the report of issue 10
    ("dlms-auto", lambda n: _repeat(b"\x7e\xa7\xfd", n)),  # each length lands on a flag
    ("dlms-auto", lambda n: _repeat(b"\x68\xff\xff\x68", n)),
    ("dlms-auto", _raw_chain),
    ("dlms-auto", _long_notification),
    ("hdlc", lambda n: _repeat(b"\x7e\xa7\xff", n)),
    ("hdlc", lambda n: _repeat(b"\x7e\xa7\xfd", n)),
    ("hdlc", lambda n: b"\x7e\xa7\xff" + _repeat(b"\x7e\xa0\x07\x03\x03\x13\x00", n - 3)),
    ("mbus", lambda n: _repeat(b"\x68\xff\xff\x68", n)),
    ("mbus", lambda n: _repeat(b"\x68\xfe\xfe\x68\x10\x16", n)),
    ("raw", _raw_chain),
    ("raw", _long_notification),
    ("raw", lambda n: _repeat(b"\xdb\x08", n)),
    ("dsmr", lambda n: _repeat(b"/", n)),
    ("dsmr", lambda n: _repeat(b"/ESR5\r\n1-0:1.8.1(1)\r\n", n)),
    ("dsmr", _p1_no_end),
    ("kmp", lambda n: _repeat(b"\x40\x3f\x10", n)),
    ("kmp", lambda n: _repeat(b"\x40\x1b", n)),
]


def _feeding(name: str, pattern: Callable[[int], bytes], chunk: int
             ) -> Callable[[int], Callable[[], None]]:
    def make(n: int) -> Callable[[], None]:
        data = pattern(n)
        feed = DECODERS[name]()

        def run() -> None:
            for i in range(0, len(data), chunk):
                feed(data[i:i + chunk])
        return run
    return make


@pytest.mark.parametrize("chunk", [5, 4096], ids=["uart-chunks", "one-read"])
@pytest.mark.parametrize(("name", "pattern"), CASES,
                         ids=[f"{name}-{i}" for i, (name, _) in enumerate(CASES)])
def test_feeding_is_linear(name: str, pattern: Callable[[int], bytes], chunk: int) -> None:
    make = _feeding(name, pattern, chunk)
    n = 4096
    assert growth(make, n) < MAX_GROWTH
    assert lines_executed(make(4 * n)) < LINES_PER_BYTE * 4 * n


class _Counted:
    """A compiled pattern that adds the span each search may scan to a counter."""

    def __init__(self, pattern: re.Pattern[bytes], counter: list[int]) -> None:
        self._pattern = pattern
        self._counter = counter

    def _span(self, data: bytes, pos: int = 0, endpos: int | None = None) -> None:
        self._counter[0] += (len(data) if endpos is None else endpos) - pos

    def search(self, data: bytes, *args: int) -> re.Match[bytes] | None:
        self._span(data, *args)
        return self._pattern.search(data, *args)

    def findall(self, data: bytes, *args: int) -> list[Any]:
        self._span(data, *args)
        return self._pattern.findall(data, *args)

    def finditer(self, data: bytes, *args: int) -> Iterator[re.Match[bytes]]:
        self._span(data, *args)
        return self._pattern.finditer(data, *args)


@pytest.mark.parametrize("pattern", [
    b"/ABC5\r\n1-0:1.8.1(1)\r\n",  # many P1 headers, none ends
    b"/ABC5",
    b"\x7e\xa7\xfd",  # every length field lands on a flag
    b"\x68\xff\xff\x68",
    b"\xdb\x08",
    b"\x0f\x00\x00\x00\x00\x00\x01",
    b"\x40\x1b\x00",
    b"\x40\x1b\x00" * 80 + b"\x0d",
], ids=["p1-lines", "p1-headers", "hdlc", "mbus", "apdu", "notification", "kmp", "kmp-ends"])
def test_sniffing_is_linear(pattern: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines, bytes handed to regular expressions and bytes handed to CRCs, all linear;
    a CRC covers at most one frame's worth of bytes (2 kB) per byte of input."""
    scanned, checked = [0], [0]
    for name in ("_P1_HEADER", "_P1_LINE", "_P1_END"):
        monkeypatch.setattr(sniff_module, name, _Counted(getattr(sniff_module, name), scanned))
    for name in ("hdlc_fcs", "kmp_crc"):
        real = getattr(sniff_module, name)
        monkeypatch.setattr(sniff_module, name,
                            lambda data, real=real: checked.__setitem__(
                                0, checked[0] + len(data)) or real(data))

    def work(n: int) -> tuple[int, int, int]:
        data = _repeat(pattern, n)
        scanned[0] = checked[0] = 0
        lines = lines_executed(lambda: sniff(data))
        return lines, scanned[0], checked[0]

    n = 4096
    w1, w2, w4 = work(n), work(2 * n), work(4 * n)
    for kind in range(3):
        assert w4[kind] - w2[kind] <= MAX_GROWTH * max(w2[kind] - w1[kind], n // 8), kind
    assert w4[0] < LINES_PER_BYTE * 4 * n
    assert w4[1] < 8 * 4 * n
    assert w4[2] <= 2048 * 4 * n
