"""What a fleet is, before anything runs: which devices, with which ids, addresses, meters.

Pure arithmetic, so that the command line, the tests and the Kubernetes manifests agree:

- A device's place is its *global index* `shard * shard_size + index` (index < shard_size):
  shard K of a StatefulSet (its pod ordinal) holds global indices K*S .. K*S+S-1.
- Its id is Espressif's OUI followed by 24 bits that are a bijection of the global index
  for a given fleet seed (an odd multiplier modulo 2^24 plus a seed-derived offset): two
  global indices below 2^24 never share an id, and the last six hex digits (the mDNS name,
  the MQTT client id `ESP32_XXXXXX`, the host name) differ too. Same seed, same ids, on
  every restart.
- Its virtual meter comes from a weighted profile mix (`ensor-ers:70,lg-e570:30`) by smooth
  weighted round robin over the global index: every run of `sum(weights)` consecutive
  devices has exactly the weights' counts, and a small fleet is already mixed.
- Its meter seed is derived from the fleet seed and the global index, so values differ.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass
from typing import Final

#: Espressif's OUI (the device id is an ESP32's base MAC address).
OUI: Final = "A842E3"
ID_SPACE: Final = 1 << 24
#: An odd multiplier: x -> x * M mod 2^24 is a bijection that scatters neighbours.
_MULTIPLIER: Final = 0x9E3779 | 1
MAX_MIX_TOTAL: Final = 10_000


class PlanError(ValueError):
    """A fleet option that cannot be used; the message is the line the user sees."""


@dataclass(frozen=True, slots=True)
class ProfileMix:
    """Profiles and their integer weights, in the order given."""

    weights: tuple[tuple[str, int], ...]

    @classmethod
    def parse(cls, text: str, known: set[str] | frozenset[str]) -> ProfileMix:
        """`name:weight,name:weight` (a bare name weighs 1)."""
        weights: list[tuple[str, int]] = []
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            name, sep, weight = part.partition(":")
            name = name.strip()
            if name not in known:
                raise PlanError(f"unknown profile {name!r} in the mix (known: "
                                f"{', '.join(sorted(known))})")
            if sep and not weight.strip().isdigit():
                raise PlanError(f"expected PROFILE:WEIGHT with a whole weight, got {part!r}")
            value = int(weight) if sep else 1
            if value <= 0:
                raise PlanError(f"a profile's weight must be above 0, got {part!r}")
            if any(n == name for n, _ in weights):
                raise PlanError(f"profile {name!r} is named twice in the mix")
            weights.append((name, value))
        if not weights:
            raise PlanError("the profile mix names no profile")
        if sum(w for _, w in weights) > MAX_MIX_TOTAL:
            raise PlanError(f"the mix's weights add up to more than {MAX_MIX_TOTAL}")
        return cls(tuple(weights))

    def cycle(self) -> tuple[str, ...]:
        """One period of smooth weighted round robin (length = the sum of the weights)."""
        total = sum(w for _, w in self.weights)
        current = [0] * len(self.weights)
        out: list[str] = []
        for _ in range(total):
            for i, (_, weight) in enumerate(self.weights):
                current[i] += weight
            best = max(range(len(current)), key=lambda i: current[i])
            current[best] -= total
            out.append(self.weights[best][0])
        return tuple(out)

    def __str__(self) -> str:
        return ",".join(f"{name}:{weight}" for name, weight in self.weights)


def seed_offset(fleet_seed: int) -> int:
    digest = hashlib.sha256(f"whatwatt fleet {fleet_seed}".encode()).digest()
    return int.from_bytes(digest[:3], "big")


def device_id(fleet_seed: int, global_index: int) -> str:
    """The id of the device at `global_index` (0 <= index < 2^24) of the fleet `fleet_seed`."""
    if not 0 <= global_index < ID_SPACE:
        raise PlanError(f"a fleet holds at most {ID_SPACE} devices (global index "
                        f"{global_index})")
    suffix = (global_index * _MULTIPLIER + seed_offset(fleet_seed)) % ID_SPACE
    return f"{OUI}{suffix:06X}"


def meter_seed(fleet_seed: int, global_index: int) -> int:
    digest = hashlib.sha256(f"meter {fleet_seed} {global_index}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def shard_from_hostname(hostname: str) -> int:
    """A StatefulSet pod's ordinal: the number after the last hyphen (`fleet-3` -> 3)."""
    match = re.search(r"-(\d+)$", hostname)
    if match is None:
        raise PlanError(f"cannot take a shard number from the host name {hostname!r} "
                        "(expected NAME-ORDINAL, as a StatefulSet's pods are named)")
    return int(match.group(1))


@dataclass(frozen=True, slots=True)
class Listen:
    """Where devices listen: consecutive ports from `port` on `host` (a port of 0: each a
    free port), or, with `network`, one address per device from it on the fixed `port`."""

    host: str
    port: int
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None

    @classmethod
    def parse(cls, text: str) -> Listen:
        """`HOST:BASEPORT` or `NETWORK/PREFIX:PORT` (e.g. 127.0.1.0/24:80)."""
        where, sep, port_text = text.rpartition(":")
        if not sep or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
            raise PlanError(f"expected HOST:PORT or NETWORK/PREFIX:PORT, got {text!r}")
        where = where.strip("[]") or "127.0.0.1"
        if "/" in where:
            try:
                network = ipaddress.ip_network(where, strict=False)
            except ValueError as exc:
                raise PlanError(f"not an address range: {where!r} ({exc})") from exc
            return cls(str(network.network_address), int(port_text), network)
        return cls(where, int(port_text))

    def capacity(self) -> int:
        if self.network is None:
            return ID_SPACE if self.port == 0 else 65536 - self.port
        return max(0, self.network.num_addresses - 2)

    def address(self, index: int) -> tuple[str, int]:
        """The listener of the shard's device `index`."""
        if index >= self.capacity():
            raise PlanError(f"{self.describe()} has room for {self.capacity()} devices, "
                            f"not {index + 1}")
        if self.network is None:
            return self.host, (0 if self.port == 0 else self.port + index)
        return str(self.network.network_address + 1 + index), self.port

    def describe(self) -> str:
        if self.network is None:
            return f"{self.host}:{self.port}"
        return f"{self.network}:{self.port}"


@dataclass(frozen=True, slots=True)
class DevicePlan:
    index: int  # in the shard
    global_index: int
    device_id: str
    profile: str
    seed: int
    host: str
    port: int


@dataclass(frozen=True, slots=True)
class FleetPlan:
    devices: int
    shard: int = 0
    shard_size: int | None = None  # None: the number of devices
    seed: int = 1
    mix: ProfileMix = ProfileMix((("ensor-ers", 1),))
    listen: Listen = Listen("127.0.0.1", 0)

    def __post_init__(self) -> None:
        if self.devices < 1:
            raise PlanError(f"a fleet needs at least one device, not {self.devices}")
        if self.shard < 0:
            raise PlanError(f"a shard number is 0 or above, not {self.shard}")
        if self.devices > self.size:
            raise PlanError(f"{self.devices} devices do not fit in a shard of {self.size}")
        if (self.shard + 1) * self.size > ID_SPACE:
            raise PlanError(f"shard {self.shard} of {self.size} devices is beyond the "
                            f"{ID_SPACE} device ids a fleet has")
        if self.devices > self.listen.capacity():
            raise PlanError(f"{self.listen.describe()} has room for "
                            f"{self.listen.capacity()} devices, not {self.devices}")

    @property
    def size(self) -> int:
        return self.shard_size if self.shard_size is not None else self.devices

    def global_indices(self) -> range:
        first = self.shard * self.size
        return range(first, first + self.devices)

    def members(self) -> list[DevicePlan]:
        cycle = self.mix.cycle()
        out = []
        for index, g in enumerate(self.global_indices()):
            host, port = self.listen.address(index)
            out.append(DevicePlan(index, g, device_id(self.seed, g), cycle[g % len(cycle)],
                                  meter_seed(self.seed, g), host, port))
        return out
