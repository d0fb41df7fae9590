"""An in-memory wire between a KmpPoller and a meter, driven by the poller's own deadlines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from meter_protocols.kmp import KmpPoller
from meter_protocols.readings import Event, FrameDecoded, Problem, ProblemKind

T0 = 1_750_000_000.0  # 2025-06-15 17:06:40 Europe/Zurich


class Meter(Protocol):
    def receive(self, data: bytes, t: float) -> bytes: ...


#: (answer, index of the request it answers) -> what arrives at the gateway
Link = Callable[[bytes, int], bytes]


@dataclass
class Exchange:
    poller: KmpPoller
    meter: Meter
    latency: float = 0.0  # the answer arrives this long after its request
    link: Link = lambda answer, index: answer
    now: float = T0
    events: list[Event] = field(default_factory=list)
    requests: list[tuple[float, bytes]] = field(default_factory=list)

    def run_until(self, end: float) -> None:
        for _ in range(100_000):
            if self.now > end:
                return
            request = self.poller.poll(self.now)
            self.events += self.poller.take_events()
            if request:
                index = len(self.requests)
                self.requests.append((self.now, request))
                answer = self.link(self.meter.receive(request, self.now), index)
                if answer:
                    self.now += self.latency
                    self.events += self.poller.feed(answer, self.now)
                continue
            deadline = self.poller.next_deadline()
            # The poller never stalls: when it has nothing to send, it names a later time.
            assert deadline > self.now, (deadline, self.now, self.poller.state)
            self.now = deadline
        raise AssertionError("exchange did not reach its end time")

    def readings(self) -> list[FrameDecoded]:
        return [e for e in self.events if isinstance(e, FrameDecoded)]

    def problems(self, kind: ProblemKind | None = None) -> list[Problem]:
        return [e for e in self.events if isinstance(e, Problem)
                and (kind is None or e.kind is kind)]

    def cids(self) -> list[int]:
        """The command of each request sent (byte 2; CIDs never need stuffing here)."""
        return [request[2] for _, request in self.requests]
