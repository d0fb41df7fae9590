"""Virtual Kamstrup meters read with KMP (pull: the gateway asks, the meter answers)."""

from __future__ import annotations

from types import MappingProxyType

from meter_protocols.kmp.codec import LINE
from meter_protocols.kmp.commands import MeterType
from meter_protocols.kmp.registers import OMNIPOWER_POLL
from meter_protocols.kmp.responder import KmpMeterModel, KmpResponder
from meter_protocols.readings import Interface, MeterIdentity, MeterProtocol
from meter_protocols.simulator.load import LoadParams
from meter_protocols.simulator.profile import Profile

#: The OMNIPOWER three-phase meter as emulated: the type code is ours (real GetType codes
#: are not public), the revision gives the "rev. AF1" of a real OMNIPOWER's report; it has
#: every register a gateway polls.
OMNIPOWER_MODEL = KmpMeterModel(
    meter_type=MeterType(type_code=0x0684, revision=0x0AF1),
    registers=OMNIPOWER_POLL,
)


def _omnipower_responder(profile: Profile) -> KmpResponder:
    return KmpResponder(profile, OMNIPOWER_MODEL)


KAMSTRUP_OMNIPOWER = Profile(
    name="kamstrup-omnipower",
    title="Kamstrup OMNIPOWER three-phase, KMP on the TTL/optical port (pull)",
    source="frame format, commands and value encoding: KMP as documented by Kamstrup's "
           "examples (vectors in shared/fixtures/real/kmp); register ids: "
           "meter_protocols/kmp/registers.py (public community tables, some assumed); "
           "line 9600 8N2: KMP electricity-meter readers (9600 baud) with the two stop "
           "bits of KMP framing; 4 s cycle as seen on OMNIPOWER installations; identity, "
           "resolutions and register set: a real OMNIPOWER's whatwatt Go report "
           "(energies to 0.001 kWh, tariffs T1/T2, reactive powers, rev. AF1, prefix KMP)",
    protocol=MeterProtocol.KMP,
    interface=Interface.TTL,
    line=LINE,
    interval=4.0,
    identity=MeterIdentity(
        meter_id="70312845",
        logical_name="OMNIPOWER",
        model="OMNIPOWER rev. AF1",
        vendor="Kamstrup",
        prefix="KMP",
    ),
    mode="pull",
    phases=3,
    load=LoadParams(pv_peak_w=4200.0, pv_phases=3),
    initial=MappingProxyType({
        "1.8.1": 8_412_350.0, "1.8.2": 5_127_880.0,
        "2.8.1": 2_904_410.0, "2.8.2": 310_220.0,
        "3.8.1": 1_020_300.0, "3.8.2": 640_150.0,
    }),
    responder=_omnipower_responder,
    notes="Pull meter: answers GetType, GetSerialNo and GetRegister (up to 8 registers) "
          "at address 0x3F; silent on bad CRC, unknown commands and malformed requests; "
          "unknown registers are left out of an answer.",
)

PROFILES = (KAMSTRUP_OMNIPOWER,)
