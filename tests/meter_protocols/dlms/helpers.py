"""Shared helpers for the DLMS tests (not fixtures' data: those stay in shared/)."""

from __future__ import annotations

from collections.abc import Iterable

from meter_protocols.readings import Event, FrameDecoded, MeterReading, Problem, ProblemKind


def readings(events: Iterable[Event]) -> list[MeterReading]:
    return [e.reading for e in events if isinstance(e, FrameDecoded)]


def problems(events: Iterable[Event]) -> list[ProblemKind]:
    return [e.kind for e in events if isinstance(e, Problem)]
