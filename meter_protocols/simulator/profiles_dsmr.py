"""Virtual DSMR P1 meters."""

from __future__ import annotations

from types import MappingProxyType

from meter_protocols.dsmr.encoder import fixed, hex_text, telegram, timestamp
from meter_protocols.line import P1_DSMR4
from meter_protocols.readings import Interface, MeterIdentity, MeterProtocol
from meter_protocols.simulator.load import LoadParams
from meter_protocols.simulator.profile import Profile
from meter_protocols.simulator.state import MeterSnapshot


class Dsmr5Encoder:
    """A DSMR 5.0 telegram in the layout of the Ensor eRS801 (Swiss P1 meters).

    Values with two decimals for volts and amps, as the manual's Ensor example shows
    (234.34 V, 0.22 A), where the Dutch companion standard writes fewer.
    """

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        ident = profile.identity
        self.header = "/" + ident.logical_name
        self.id_lines = (
            f"0-0:96.1.0({ident.meter_id})",
            f"0-0:96.1.1({hex_text(ident.model)})",
        )

    def encode(self, snapshot: MeterSnapshot) -> bytes:
        # P1 registers are unsigned: a value below zero (only a forced one can be) reads 0
        v = {code: value if not value < 0 else 0.0 for code, value in snapshot.values.items()}

        def kwh(code: str) -> str:
            return f"1-0:{code}({fixed(v[code] / 1000, 6, 3)}*kWh)"

        def kw(code: str) -> str:
            return f"1-0:{code}({fixed(v[code] / 1000, 2, 3)}*kW)"

        lines = [
            "1-3:0.2.8(50)",
            f"0-0:1.0.0({timestamp(snapshot.meter_time)})",
            *self.id_lines,
            kwh("1.8.1"), kwh("1.8.2"), kwh("2.8.1"), kwh("2.8.2"),
            f"0-0:96.14.0({snapshot.tariff:04d})",
            kw("1.7.0"), kw("2.7.0"),
            "0-0:96.7.21(00004)",
            "0-0:96.7.9(00002)",
            "1-0:99.97.0(1)(0-0:96.7.19)(240611083012S)(0000000312*s)",
            "1-0:32.32.0(00001)", "1-0:52.32.0(00001)", "1-0:72.32.0(00001)",
            "1-0:32.36.0(00000)", "1-0:52.36.0(00000)", "1-0:72.36.0(00000)",
            "0-0:96.13.0()",
        ]
        phases = ((32, 31, 21, 22), (52, 51, 41, 42), (72, 71, 61, 62))
        lines += [f"1-0:{volt}.7.0({fixed(v[f'{volt}.7.0'], 3, 2)}*V)" for volt, *_ in phases]
        lines += [f"1-0:{amp}.7.0({fixed(v[f'{amp}.7.0'], 3, 2)}*A)" for _, amp, _, _ in phases]
        lines += [kw(f"{imp}.7.0") for _, _, imp, _ in phases]
        lines += [kw(f"{exp}.7.0") for _, _, _, exp in phases]
        return telegram(self.header, lines)


ENSOR_ERS = Profile(
    name="ensor-ers",
    title="Ensor eRS801, DSMR 5.0 on P1 (the manual's P1 example)",
    source="field set and identity: whatwatt Go manual v2.0 section 3.1, 'Example response "
           "for Ensor eRS'; line formats: DSMR 5.0.2 P1 companion standard",
    protocol=MeterProtocol.DSMR,
    interface=Interface.P1,
    line=P1_DSMR4,
    interval=1.0,
    identity=MeterIdentity(
        meter_id="20000741",
        logical_name="ESR51030712084367",
        model="1ESR0012084367",
        vendor="Ensor",
        prefix="ESR",
    ),
    protocol_version="5.0",
    phases=3,
    load=LoadParams(),
    initial=MappingProxyType({"1.8.1": 44258.0, "1.8.2": 23834.0}),
    encoder=Dsmr5Encoder,
)

PROFILES = (ENSOR_ERS,)
