"""A fleet's collector: off after start-up with the long-lived heap frozen, and cycles
still collected on the fleet's own schedule."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import weakref
from collections.abc import Iterator

import pytest

from emulator.fleet.cli import collect_now_and_then, heap_settled_after


@pytest.fixture
def collector_restored() -> Iterator[None]:
    enabled, thresholds = gc.isenabled(), gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
        if enabled:
            gc.enable()


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_start_up_leaves_the_collector_off_and_the_heap_frozen(
        collector_restored: None) -> None:
    gc.enable()
    with heap_settled_after():
        assert not gc.isenabled()  # off while the devices start
        Node()
    assert not gc.isenabled()
    assert gc.get_freeze_count() > 0
    assert gc.get_count()[0] < 100  # collected once, then frozen: nothing young is left


async def test_cycles_are_collected_on_the_fleets_schedule(collector_restored: None) -> None:
    gc.disable()
    freed = asyncio.Event()
    loop = asyncio.get_running_loop()
    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle: reference counts alone never free it
    weakref.finalize(a, loop.call_soon_threadsafe, freed.set)
    del a, b
    assert not freed.is_set()
    task = asyncio.ensure_future(collect_now_and_then(every=0.01))
    try:
        await asyncio.wait_for(freed.wait(), 10)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
