"""Scalers of COSEM class-3 values: where they come from, and the user's custom list.

The order, for each register value (manual 6.4/6.5, scalers-configuration.md):
1. `custom` set, an entry for C.D.E (or C.D.255): the user's scaler. The documentation
   says custom scalers override what the device detected, the meter's own included.
2. The meter's own scaler (scaler_unit sent in the frame).
3. `lge570` set, an entry for C.D.E: the predefined Landis+Gyr E570 scaler.
4. Automatic ("default"): the scaler of a recognised push layout (Kaifa, Kamstrup lists
   without scalers), else the built-in table by OBIS (the Landis+Gyr E450 column, which
   is what the device's own example shows), corrected once per register when the first
   non-zero value is obviously off by powers of ten (a voltage of 2345 is 234.5 V). Like
   the device's "detection stage", that decision is kept until the meter or the settings
   change (`ScalerResolver.reset`).
   Currents have no narrow range of their own; in a 64-bit register list (whose powers
   are in W under the E450 column) they are checked against the frame's own power and
   voltages instead (`current_shift`): when the phases' U x I is off from the apparent
   power by a factor of 30 or more (a load frame of a Landis+Gyr E570 with 64-bit
   registers reads 100x off under the E450 column), the current scalers move by the power
   of ten that closes the gap, decided once like the other corrections.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from meter_protocols.errors import ProtocolError
from meter_protocols.obis import CATALOGUE
from meter_protocols.readings import MeterReading, ScalerSource

SCALER_MIN = -6
SCALER_MAX = 6
#: The most entries a custom list may have (the device stores it in a small flash page).
MAX_CUSTOM_SCALERS = 64


class ScalersSet(StrEnum):
    """The meter settings' `scalers_set`."""

    DEFAULT = "default"
    LGE570 = "lge570"
    CUSTOM = "custom"


class ScalerConfigError(ProtocolError):
    """A custom scaler list that the device refuses (the API answers 400)."""


@dataclass(frozen=True, slots=True)
class CustomScaler:
    c: int
    d: int
    e: int  # 255: every E
    scaler: int

    @property
    def obis(self) -> str:
        return f"{self.c}.{self.d}.{self.e}"

    def as_json(self) -> dict[str, Any]:
        return {"obis": self.obis, "scaler": self.scaler}


@dataclass(frozen=True, slots=True)
class ScalerConfig:
    """What the settings say about scalers."""

    set: ScalersSet = ScalersSet.DEFAULT
    custom: tuple[CustomScaler, ...] = ()

    def custom_table(self) -> dict[str, int]:
        return {entry.obis: entry.scaler for entry in self.custom}


# Looked up once: an enum member read from its class costs several global lookups, and
# resolve() runs for every register of every frame.
_CUSTOM: Final = ScalersSet.CUSTOM
_METER: Final = ScalerSource.METER


def _table(rows: Iterable[tuple[Iterable[str], int]]) -> dict[str, int]:
    return {code: scaler for codes, scaler in rows for code in codes}


_ENERGY = tuple(f"{c}.8.{t}" for c in (1, 2, 3, 4) for t in (0, 1, 2))
_PHASE_POWER = tuple(f"{base + k}.7.0" for base in (20, 40, 60) for k in (1, 2, 3, 4))
_VOLTAGE = ("32.7.0", "52.7.0", "72.7.0")
_CURRENT = ("31.7.0", "51.7.0", "71.7.0")
#: The phase currents (C.D.E), whose automatic scaler the frame's power checks.
CURRENT_CODES: Final = tuple(f":{code}" for code in _CURRENT)

#: Built-in automatic table: the E450 column of scalers-configuration.md.
DEFAULT_TABLE: Final[dict[str, int]] = _table((
    (_ENERGY, 0), (("1.7.0", "2.7.0"), 0), (_VOLTAGE, 0), (_CURRENT, -2), (_PHASE_POWER, 0),
))
_QUADRANT_ENERGY = tuple(f"{c}.8.{t}" for c in (5, 6, 7, 8) for t in (0, 1, 2))
#: The predefined `lge570` set: the E570 column of scalers-configuration.md, plus the
#: four-quadrant reactive energies (5..8.8.x) at the scaler of the other energies: the
#: manual's E570 report shows them in kWh next to 1.8.x, so they come in the same unit.
LGE570_TABLE: Final[dict[str, int]] = _table((
    (_ENERGY, 3), (_QUADRANT_ENERGY, 3), (("1.7.0", "2.7.0"), -1), (_VOLTAGE, 0),
    (_CURRENT, -1), (_PHASE_POWER, -1),
))

#: Plausible magnitudes for the automatic correction: C.D.E -> (low, high), applied to
#: the absolute value. Only quantities with a narrow physical range are checked.
PLAUSIBLE: Final[dict[str, tuple[float, float]]] = {
    **dict.fromkeys((*_VOLTAGE, "12.7.0"), (45.0, 500.0)),
    "14.7.0": (40.0, 70.0),
    **dict.fromkeys(("13.7.0", "33.7.0", "53.7.0", "73.7.0"), (0.0, 1.0)),
}


#: The voltage assumed for a phase whose voltage the frame does not carry (V).
NOMINAL_VOLTAGE: Final = 230.0
#: Below this apparent power (VA) a frame says too little about its currents.
CURRENT_CHECK_MIN_VA: Final = 100.0
#: U x I off from the apparent power by at least this many decades is a wrong scaler
#: (a power factor down to 0.03 or a power register that lags stays below it).
CURRENT_CHECK_DECADES: Final = 1.5


class ScalerResolver:
    """Decides the scaler of each class-3 value; remembers automatic decisions."""

    def __init__(self, config: ScalerConfig | None = None) -> None:
        self._config = config or ScalerConfig()
        self._custom = self._config.custom_table()
        self._learned: dict[str, int] = {}

    @property
    def config(self) -> ScalerConfig:
        return self._config

    def set_config(self, config: ScalerConfig) -> None:
        self._config = config
        self._custom = config.custom_table()
        self._learned.clear()

    @property
    def meter_wins(self) -> bool:
        """Whether a scaler the meter sends is the one used (no custom list to override
        it): then resolve(short, raw, meter=s) is (s, METER) for any s not None."""
        return not (self._config.set is _CUSTOM and self._custom)

    def reset(self) -> None:
        """Forget the automatic decisions (a new meter, new settings)."""
        self._learned.clear()

    def resolve(self, short: str, raw: float, *, meter: int | None = None,
                layout: int | None = None) -> tuple[int, ScalerSource]:
        """The scaler for the value `raw` of register C.D.E `short`, and its origin."""
        config = self._config
        if config.set is _CUSTOM and self._custom:
            scaler = self._custom.get(short)
            if scaler is None:
                c, d, _ = short.split(".")
                scaler = self._custom.get(f"{c}.{d}.255")
            if scaler is not None:
                return scaler, ScalerSource.CUSTOM
        if meter is not None:
            return meter, _METER
        if config.set is ScalersSet.LGE570:
            scaler = LGE570_TABLE.get(short)
            if scaler is not None:
                return scaler, ScalerSource.LGE570
        return self._automatic(short, raw, layout)

    def current_shift(self, values: Mapping[str, float], automatic: Iterable[str]) -> int:
        """How many decades the automatic current scalers must move for this frame's
        currents to agree with its power and voltages (0: they agree, or it cannot be told
        yet). `automatic`: the currents whose scaler came from the default table. The
        decision is kept (as learned scalers) until `reset`."""
        codes = [c for c in automatic if c in _CURRENT]
        if not codes or any(c in self._learned for c in codes):
            return 0
        # The E570's push carries no voltages: the nominal 230 V stands in for them.
        volt_amps = sum((values.get(v) or NOMINAL_VOLTAGE) * abs(values.get(i, 0.0))
                        for v, i in zip(_VOLTAGE, _CURRENT, strict=True) if i in codes)
        active = values.get("1.7.0", 0.0) + values.get("2.7.0", 0.0)
        reactive = values.get("3.7.0", 0.0) + values.get("4.7.0", 0.0)
        apparent = math.hypot(active, reactive)
        if apparent < CURRENT_CHECK_MIN_VA or volt_amps <= 0:
            return 0
        decades = math.log10(volt_amps / apparent)
        shift = -round(decades) if abs(decades) >= CURRENT_CHECK_DECADES else 0
        for code in codes:
            self._learned[code] = DEFAULT_TABLE.get(code, 0) + shift
        return shift

    def _automatic(self, short: str, raw: float, layout: int | None) -> tuple[int, ScalerSource]:
        learned = self._learned.get(short)
        base = layout if layout is not None else DEFAULT_TABLE.get(short, 0)
        if learned is not None:
            return learned, (ScalerSource.DEFAULT if learned == base
                             else ScalerSource.PLAUSIBILITY)
        limits = PLAUSIBLE.get(short)
        if limits is None or raw == 0:
            return base, ScalerSource.DEFAULT
        low, high = limits
        for step in (0, -1, -2, -3, -4):  # meters send finer units, never coarser
            scaler = base + step
            if low <= abs(raw) * 10.0 ** scaler <= high:
                self._learned[short] = scaler
                return scaler, (ScalerSource.DEFAULT if step == 0
                                else ScalerSource.PLAUSIBILITY)
        return base, ScalerSource.DEFAULT


def scalers_current(reading: MeterReading | None) -> list[dict[str, Any]]:
    """What GET /api/v1/meter/scalers/current returns for the last reading.

    Class-3 objects whose C.D.E the device recognises (the OBIS catalogue), in frame
    order, each once; empty for non-DLMS readings.
    """
    if reading is None:
        return []
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for obj in reading.objects:
        if obj.class_id not in (3, 4) or obj.scaler is None:
            continue
        short = obj.logical_name.partition(":")[2]
        if short in seen or short not in CATALOGUE:
            continue
        seen.add(short)
        out.append({"obis": short, "scaler": obj.scaler})
    return out


_CDE: Final = re.compile(r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})")


def parse_custom_scalers(data: object) -> tuple[CustomScaler, ...]:
    """Validate the body of POST /api/v1/meter/scalers/custom (manual 6.5).

    A JSON array of {"obis": "C.D.E", "scaler": n}; C and D 0..254, E 0..255 (255: every
    E), n an integer -6..6. Other fields in an entry are ignored. Raises
    ScalerConfigError with a message that names the offending entry.
    """
    if not isinstance(data, Sequence) or isinstance(data, str | bytes | bytearray):
        raise ScalerConfigError("expected a JSON array of {\"obis\": \"C.D.E\", \"scaler\": n}")
    if len(data) > MAX_CUSTOM_SCALERS:
        raise ScalerConfigError(f"at most {MAX_CUSTOM_SCALERS} custom scalers, got {len(data)}")
    entries: list[CustomScaler] = []
    seen: set[str] = set()
    for index, item in enumerate(data):
        where = f"entry {index}"
        if not isinstance(item, Mapping):
            raise ScalerConfigError(f"{where}: expected an object with obis and scaler")
        obis, scaler = item.get("obis"), item.get("scaler")
        if not isinstance(obis, str):
            raise ScalerConfigError(f"{where}: obis must be a string \"C.D.E\"")
        match = _CDE.fullmatch(obis)
        if match is None:
            raise ScalerConfigError(f"{where}: obis {obis!r} is not of the form C.D.E")
        c, d, e = (int(g) for g in match.groups())
        if not (0 <= c <= 254 and 0 <= d <= 254 and 0 <= e <= 255):
            raise ScalerConfigError(
                f"{where}: obis {obis!r} out of range (C and D 0..254, E 0..255)")
        if isinstance(scaler, bool) or not isinstance(scaler, int):
            raise ScalerConfigError(f"{where}: scaler must be an integer")
        if not SCALER_MIN <= scaler <= SCALER_MAX:
            raise ScalerConfigError(
                f"{where}: scaler {scaler} out of range {SCALER_MIN}..{SCALER_MAX}")
        short = f"{c}.{d}.{e}"
        if short in seen:
            raise ScalerConfigError(f"{where}: obis {short} is listed twice")
        seen.add(short)
        entries.append(CustomScaler(c, d, e, scaler))
    return tuple(entries)


def custom_scalers_error(data: object) -> str | None:
    """The reason a custom scaler list is refused, or None when it is valid."""
    try:
        parse_custom_scalers(data)
    except ScalerConfigError as exc:
        return str(exc)
    return None


def custom_scalers_json(entries: Iterable[CustomScaler]) -> list[dict[str, Any]]:
    """What GET /api/v1/meter/scalers/custom returns."""
    return [entry.as_json() for entry in entries]

