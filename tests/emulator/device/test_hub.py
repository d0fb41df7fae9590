from __future__ import annotations

import asyncio

import pytest

from emulator.device.hub import Hub, SubscriptionEnded


async def test_a_slow_subscriber_delays_nobody_and_keeps_the_newest() -> None:
    hub: Hub[int] = Hub()
    slow = hub.subscribe(maxsize=2)
    fast = hub.subscribe(maxsize=2)
    got: list[int] = []
    for i in range(5):
        hub.publish(i)  # never blocks, whoever is behind
        got.append(await fast.get())
    assert got == [0, 1, 2, 3, 4]
    assert [await slow.get(), await slow.get()] == [3, 4]
    assert slow.dropped == 3


async def test_end_wakes_a_waiting_subscriber() -> None:
    hub: Hub[int] = Hub()
    sub = hub.subscribe()
    waiter = asyncio.get_running_loop().create_task(sub.get())
    await asyncio.sleep(0)
    sub.end()
    with pytest.raises(SubscriptionEnded):
        await waiter
    assert hub.subscribers == 0
    hub.publish(1)  # publishing to nobody is fine


def test_a_failing_listener_does_not_starve_the_others(caplog: pytest.LogCaptureFixture) -> None:
    hub: Hub[int] = Hub()
    seen: list[int] = []

    def broken(_: int) -> None:
        raise RuntimeError("boom")

    hub.add_listener(broken)
    hub.add_listener(seen.append)
    hub.publish(7)
    assert seen == [7]
    assert "failed" in caplog.text
