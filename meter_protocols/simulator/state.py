"""The registers of a virtual meter: energy integrated from power, tariffs, demand, clock.

`MeterState.advance(t)` moves the meter to the instant t (seconds since the epoch, in the
injected clock's time) and returns a `MeterSnapshot` of everything the meter knows, keyed
by OBIS C.D.E in base units. Each protocol's encoder picks from it what its meter sends.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Final
from zoneinfo import ZoneInfo

from meter_protocols.errors import ValueRangeError
from meter_protocols.obis import CATALOGUE, Quantity
from meter_protocols.simulator.load import LoadModel, PhaseSample

#: Longest step of the energy integration, in seconds.
INTEGRATION_STEP = 10.0
#: Most steps one advance() takes; a longer jump (the clock set forward) uses longer steps.
MAX_STEPS = 8640
#: The largest value that can be forced on a register, in base units (Wh, W, V, A...).
#: Beyond 2^53 a float no longer holds every whole number, so no register of any
#: resolution could be sent exactly; no household meter counts near 10^15 Wh either.
MAX_FORCED = 1e15
#: The instants a meter's clock can show in any time zone (a day inside years 1 and 9999):
#: a clock set beyond them (the control API takes any ISO 8601 time) pins the meter there.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC).timestamp()
LATEST = datetime(9999, 12, 30, tzinfo=UTC).timestamp()
#: Length of a demand period (max demand registers 1.6.x / 2.6.x), in seconds.
DEMAND_PERIOD = 900.0
#: c.8.t for each tariff t (0, 1, 2) and c = 1..8 at index c (index 0 unused).
_ENERGY_KEYS: Final = tuple(("", *(f"{c}.8.{t}" for c in range(1, 9))) for t in range(3))
#: (c.8.0, c.8.1, c.8.2) for c = 1..8.
_TOTAL_KEYS: Final = tuple((f"{c}.8.0", f"{c}.8.1", f"{c}.8.2") for c in range(1, 9))
#: Per phase: power in, out, reactive in, out, voltage, current (L1 21/22/23/24, 32, 31).
_PHASE_KEYS: Final = tuple(
    (f"{p + 1}.7.0", f"{p + 2}.7.0", f"{p + 3}.7.0", f"{p + 4}.7.0", f"{v}.7.0", f"{v - 1}.7.0")
    for p, v in ((20, 32), (40, 52), (60, 72)))
#: Steps between exact re-summations of the demand window (see _track_demand).
RESUM = 1024

TariffSchedule = Callable[[datetime], int]


def swiss_double_tariff(local: datetime) -> int:
    """T1 (high tariff) Monday-Friday 07-20 and Saturday 07-13 local time; T2 otherwise."""
    weekday, hour = local.weekday(), local.hour
    if weekday < 5 and 7 <= hour < 20:
        return 1
    if weekday == 5 and 7 <= hour < 13:
        return 1
    return 2


@dataclass(frozen=True, slots=True)
class MeterSnapshot:
    t: float  # true time, seconds since the epoch
    meter_time: datetime  # the meter's clock (true time plus its drift), aware, local zone
    tariff: int
    values: Mapping[str, float]
    sequence: int  # frames produced so far, this one included


_ENERGY_REGISTERS = tuple(
    f"{c}.8.{t}" for c in range(1, 9) for t in (0, 1, 2)
)


def check_forced(changes: Mapping[str, object]) -> dict[str, float | None]:
    """Forced register values as a meter can hold them: OBIS C.D.E of a numeric register of
    the catalogue -> a finite number 0..MAX_FORCED in base units, or None (release).

    Raises ValueRangeError (a ValueError), naming the register, for anything else; changes
    nothing, so a caller can check a whole request before applying any of it.
    """
    out: dict[str, float | None] = {}
    for short, value in changes.items():
        info = CATALOGUE.get(short)
        if info is None or info.quantity is Quantity.TEXT:
            raise ValueRangeError(f"{short!r} is not a numeric register (OBIS C.D.E)")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or not 0 <= value <= MAX_FORCED):  # NaN fails this too
            raise ValueRangeError(f"{short}: {value!r} is not a number 0..{MAX_FORCED:g}")
        out[short] = None if value is None else float(value)
    return out


class MeterState:
    def __init__(
        self,
        load: LoadModel,
        start: float,
        zone: ZoneInfo,
        *,
        initial: Mapping[str, float] | None = None,
        tariff_schedule: TariffSchedule = swiss_double_tariff,
        clock_drift_s: float = 0.0,
    ) -> None:
        self.load = load
        self.zone = zone
        self.tariff_schedule = tariff_schedule
        self.clock_drift_s = clock_drift_s
        self._t = start
        self._sequence = 0
        self._energy: dict[str, float] = dict.fromkeys(_ENERGY_REGISTERS, 0.0)
        for key, value in (initial or {}).items():
            self._energy[key] = value
        self._recompute_totals()
        self._demand_window: deque[tuple[float, float, float]] = deque()  # (t, dt*P+, dt*P-)
        self._window_in = self._window_out = 0.0  # the window's sums
        self._window_steps = 0
        self._max_demand: dict[str, float] = dict.fromkeys(
            ("1.6.0", "1.6.1", "1.6.2", "2.6.0", "2.6.1", "2.6.2"), 0.0
        )
        self.overrides: dict[str, float] = {}

    @property
    def t(self) -> float:
        return self._t

    def local(self, t: float) -> datetime:
        return datetime.fromtimestamp(min(max(t, EARLIEST), LATEST), self.zone)

    def force(self, changes: Mapping[str, object]) -> None:
        """Force registers to values in base units (None releases one); all or nothing.
        Raises ValueRangeError as check_forced does."""
        for short, value in check_forced(changes).items():
            if value is None:
                self.overrides.pop(short, None)
            else:
                self.overrides[short] = value

    def advance(self, t: float) -> MeterSnapshot:
        """Integrate from the last instant to t and return the meter's view at t.

        A t before the last instant is a clock set back: the meter's clock follows, its
        registers stay (they never run backwards) and the demand period starts anew.
        """
        t = min(max(t, EARLIEST), LATEST)
        if t < self._t:
            self._t = t
            self._demand_window.clear()
            self._window_in = self._window_out = 0.0
        if t > self._t:
            steps = min(MAX_STEPS, max(1, math.ceil((t - self._t) / INTEGRATION_STEP)))
            dt = (t - self._t) / steps
            for i in range(steps):
                mid = self._t + (i + 0.5) * dt
                local = self.local(mid)
                self._integrate(self.load.sample(mid, local), dt, mid, local)
            self._t = t
        self._sequence += 1
        local = self.local(t)
        return self._snapshot(self.load.sample(t, local), local)

    def _integrate(self, sample: PhaseSample, dt: float, t: float, local: datetime) -> None:
        """Integrate `sample` over `dt` around `t` (`local`: t in the meter's zone)."""
        tariff = self.tariff_schedule(local)
        keys = _ENERGY_KEYS[tariff]  # c.8.tariff for c = 1..8, at index c
        p = sum(sample.active_w)
        q = sum(sample.reactive_var)
        hours = dt / 3600.0
        imp, exp = max(p, 0.0) * hours, max(-p, 0.0) * hours
        energy = self._energy
        energy[keys[1]] += imp
        energy[keys[2]] += exp
        q_abs = abs(q) * hours
        if q >= 0:
            energy[keys[3]] += q_abs
            energy[keys[5 if p >= 0 else 6]] += q_abs
        else:
            energy[keys[4]] += q_abs
            energy[keys[8 if p >= 0 else 7]] += q_abs
        self._recompute_totals()
        self._track_demand(t, dt, max(p, 0.0), max(-p, 0.0), tariff)

    def _recompute_totals(self) -> None:
        energy = self._energy
        for total, one, two in _TOTAL_KEYS:
            energy[total] = energy[one] + energy[two]

    def _track_demand(self, t: float, dt: float, p_in: float, p_out: float, tariff: int) -> None:
        window = self._demand_window
        window.append((t, dt * p_in, dt * p_out))
        self._window_in += dt * p_in
        self._window_out += dt * p_out
        while window and window[0][0] < t - DEMAND_PERIOD:
            _, gone_in, gone_out = window.popleft()
            self._window_in -= gone_in
            self._window_out -= gone_out
        # Running sums (a 15-minute window at a push a second is 900 samples, summed twice
        # a push before); summed again from the samples every RESUM steps so that the
        # rounding of the subtractions cannot build up.
        self._window_steps += 1
        if self._window_steps >= RESUM:
            self._window_steps = 0
            self._window_in = math.fsum(w[1] for w in window)
            self._window_out = math.fsum(w[2] for w in window)
        span = min(DEMAND_PERIOD, max(dt, t - window[0][0] + dt))
        avg_in = max(0.0, self._window_in) / span
        avg_out = max(0.0, self._window_out) / span
        for direction, avg in ((1, avg_in), (2, avg_out)):
            for key in (f"{direction}.6.0", f"{direction}.6.{tariff}"):
                self._max_demand[key] = max(self._max_demand[key], avg)

    def _snapshot(self, s: PhaseSample, local: datetime) -> MeterSnapshot:
        """The meter's view at self._t (`local`: that instant in the meter's zone)."""
        values: dict[str, float] = dict(self._energy)
        values.update(self._max_demand)
        p_total = sum(s.active_w)
        q_total = sum(s.reactive_var)
        values["1.7.0"] = max(p_total, 0.0)
        values["2.7.0"] = max(-p_total, 0.0)
        values["3.7.0"] = max(q_total, 0.0)
        values["4.7.0"] = max(-q_total, 0.0)
        apparent = math.hypot(p_total, q_total)
        values["9.7.0"] = apparent
        values["13.7.0"] = abs(p_total) / apparent if apparent > 0 else 1.0
        values["14.7.0"] = s.frequency_hz
        for i, (imp, exp, qi, qe, volt, amp) in enumerate(_PHASE_KEYS):
            p, q, v = s.active_w[i], s.reactive_var[i], s.voltage_v[i]
            values[imp] = max(p, 0.0)
            values[exp] = max(-p, 0.0)
            values[qi] = max(q, 0.0)
            values[qe] = max(-q, 0.0)
            values[volt] = v
            values[amp] = math.hypot(p, q) / v if v > 0 else 0.0
        values.update(self.overrides)
        meter_time = self.local(self._t + self.clock_drift_s) if self.clock_drift_s else local
        tariff = self.tariff_schedule(local)
        return MeterSnapshot(self._t, meter_time, tariff, MappingProxyType(values),
                             self._sequence)
