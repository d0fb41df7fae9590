"""Issue 10, meter side: a meter's UART sends what its line can carry, never a backlog.

A real UART has a transmit buffer of a fixed size and drops what does not fit; when the
meter reconfigures it (a new speed), what was waiting is dropped. A virtual meter set
slower than its push rate used to queue every frame: 60 s at 2400 8E1 left 165 s of
backlog, delivered at the old speed after the meter was set right again.
"""

from __future__ import annotations

from meter_protocols.line import LineSettings
from meter_protocols.simulator.meter import VirtualMeter
from meter_protocols.simulator.profiles import get_profile
from meter_protocols.uart import VirtualWire
from meter_protocols.uart.wire import TX_BUFFER

FAST = LineSettings.parse("115200 8N1")
SLOW = LineSettings.parse("2400 8E1")


def _frame() -> bytes:
    meter = VirtualMeter(get_profile("ensor-ers"), seed=1, start=1_737_540_000.0)
    due = meter.next_push_at()
    assert due is not None
    return meter.push(due)


FRAME = _frame()  # 807 bytes, once a second


def _slow_minute(wire: VirtualWire) -> float:
    wire.meter_settings = SLOW
    end = 0.0
    for second in range(60):
        end = wire.send(FRAME, float(second))
        wire.read(float(second))
    return end


def test_a_meter_slower_than_its_pushes_keeps_a_bounded_backlog() -> None:
    wire = VirtualWire(FAST, FAST)
    busy_until = _slow_minute(wire)
    # at most one buffer's worth waits: TX_BUFFER bytes at 2400 8E1 (218 bytes/s)
    assert busy_until - 59.0 <= TX_BUFFER / SLOW.bytes_per_second + 0.1
    assert wire.tx_dropped > 30 * len(FRAME)


def test_a_meter_set_back_to_its_speed_recovers_at_once() -> None:
    wire = VirtualWire(FAST, FAST)
    _slow_minute(wire)
    wire.meter_settings = FAST
    end = wire.send(FRAME, 60.0)
    assert end - 60.0 < 0.1  # 807 bytes at 115200 baud: 70 ms
    assert wire.read(60.2).data.endswith(FRAME)


def test_frames_a_line_carries_are_untouched() -> None:
    wire = VirtualWire(SLOW, SLOW)
    small = FRAME[:200]  # 0.9 s at 2400 8E1, one a second
    for second in range(20):
        wire.send(small, float(second))
    assert wire.read(21.0).data == small * 20
    assert wire.tx_dropped == 0
