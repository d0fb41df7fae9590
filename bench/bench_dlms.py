"""Ciphered DLMS push frames decoded per second: ours against dlms-cosem and gurux-dlms.

Both sides get the same frames, from the iskra-am550 virtual meter (general-glo-ciphering,
security control 0x30: AES-128-GCM with authentication, 16 registers with scaler_unit):

- ours: DlmsDecoder fed the bare APDUs (raw framing), all the way to a MeterReading
  (decryption and tag check, A-XDR, COSEM objects, scalers);
- dlms-cosem: the same APDUs through its general-glo-cipher parser, its decrypt (AES-GCM of
  the cryptography package, in C, as ours) and its data-notification and A-XDR parsers, to
  its typed COSEM data (the OBIS codes, values and scaler_unit structures; no scaling or
  naming, which ours does on top);
- ours, the same stages as dlms-cosem's only (decryption, notification, A-XDR to typed
  values), for a like-for-like figure;
- gurux: GXDLMSSecureClient (interface PDU) decrypting and parsing the same APDUs into its
  value tree, the job its pure-Python AES does;
- and, for information, ours on the meter's real wire (HDLC segments, four frames per
  push, FCS checks and reassembly included).

Run: python bench/bench_dlms.py [--frames N]  (dlms-cosem: pip install -e '.[bench]')
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import statistics
import time
from collections.abc import Callable

from gurux_dlms import GXByteBuffer, GXReplyData
from gurux_dlms.enums import InterfaceType, Security
from gurux_dlms.secure import GXDLMSSecureClient

from meter_protocols.dlms import DlmsDecoder, DlmsKeys, apdu, security
from meter_protocols.readings import FrameDecoded
from meter_protocols.simulator.meter import VirtualMeter
from meter_protocols.simulator.profiles import get_profile
from meter_protocols.simulator.profiles_dlms import encoder_for

PROFILE = get_profile("iskra-am550")
assert PROFILE.keys is not None
KEYS = DlmsKeys.from_hex(PROFILE.keys.encryption_key, PROFILE.keys.authentication_key)


def frames(n: int, framing: str) -> list[bytes]:
    profile = dataclasses.replace(PROFILE, encoder=lambda p: encoder_for(p, framing=framing))
    meter = VirtualMeter(profile, seed=1, start=1_735_700_000.0)
    out = []
    for _ in range(n):
        t = meter.next_push_at()
        assert t is not None
        out.append(meter.push(t))
    return out


def ours(data: list[bytes], framing: str) -> int:
    decoder = DlmsDecoder(keys=KEYS, framing=framing)
    decoded = 0
    for frame in data:
        decoded += sum(isinstance(e, FrameDecoded) for e in decoder.feed(frame))
    return decoded


def gurux(data: list[bytes]) -> int:
    client = GXDLMSSecureClient(True, clientAddress=16, serverAddress=1,
                                interfaceType=InterfaceType.PDU)
    client.ciphering.security = Security.AUTHENTICATION_ENCRYPTION
    client.ciphering.blockCipherKey = KEYS.encryption_key
    client.ciphering.authenticationKey = KEYS.authentication_key
    decoded = 0
    with contextlib.redirect_stdout(io.StringIO()):  # gurux prints on every decryption
        for frame in data:
            reply, notify = GXReplyData(), GXReplyData()
            client.getData(GXByteBuffer(frame), reply, notify)
            if notify.complete and notify.value is not None:
                decoded += 1
    return decoded


def ours_data(data: list[bytes]) -> int:
    """Our stages that dlms-cosem's pipeline matches: envelope, decryption and tag check,
    data-notification and A-XDR to typed values (no layout, naming or scaling)."""
    decoded = 0
    for frame in data:
        envelope = security.parse_ciphered(frame)
        plain, verified = security.decrypt(envelope, KEYS)
        decoded += verified and apdu.parse_notification(plain).body.is_container
    return decoded


def dlms_cosem_job(data: list[bytes]) -> int:
    # Imported here: dlms-cosem is optional (the bench extra), the rest runs without it.
    from dlms_cosem.protocol.xdlms.data_notification import DataNotification  # noqa: PLC0415
    from dlms_cosem.protocol.xdlms.general_global_cipher import GeneralGlobalCipher  # noqa: PLC0415
    from dlms_cosem.security import decrypt  # noqa: PLC0415
    from dlms_cosem.utils import parse_as_dlms_data  # noqa: PLC0415

    decoded = 0
    for frame in data:
        apdu = GeneralGlobalCipher.from_bytes(frame)
        plain = decrypt(apdu.security_control, apdu.system_title, apdu.invocation_counter,
                        KEYS.encryption_key, apdu.ciphered_text, KEYS.authentication_key)
        notification = DataNotification.from_bytes(plain)
        decoded += bool(parse_as_dlms_data(notification.body))
    return decoded


def rates(jobs: dict[str, tuple[Callable[[], int], int]],
          rounds: int = 5) -> dict[str, list[float]]:
    """Frames per second of each job in each of `rounds` rounds; the rounds alternate the
    jobs, so a disturbance of the shared machine is spread over all of them rather than one.

    Time is this process's CPU time (every job runs in this one thread, the AES of both
    sides included): on a shared machine the wall clock also counts the time other
    processes held the core, which decided the ratios more than the decoders did."""
    for job, _ in jobs.values():
        job()  # warm up
    found: dict[str, list[float]] = {label: [] for label in jobs}
    for _ in range(rounds):
        for label, (job, expected) in jobs.items():
            start = time.process_time()
            decoded = job()
            elapsed = time.process_time() - start
            if decoded != expected:
                raise SystemExit(f"{label}: decoded {decoded} of {expected} frames")
            found[label].append(decoded / elapsed)
    return found


def paired(ours_rates: list[float], theirs: list[float]) -> float:
    """The median over the rounds of ours / theirs measured in the same round: two jobs
    of one round see much the same machine, so their ratio varies less than either rate,
    and the median does not pick the one lucky round a best-of would."""
    return statistics.median(a / b for a, b in zip(ours_rates, theirs, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=2000)
    args = parser.parse_args()
    raw = frames(args.frames, "raw")
    wire = frames(args.frames, "hdlc")
    jobs: dict[str, tuple[Callable[[], int], int]] = {
        "raw": (lambda: ours(raw, "raw"), len(raw)),
        "wire": (lambda: ours(wire, "hdlc"), len(wire)),
        "typed": (lambda: ours_data(raw), len(raw)),
    }
    try:
        import dlms_cosem  # noqa: F401, PLC0415 - optional (the bench extra)

        jobs["cosem"] = (lambda: dlms_cosem_job(raw), len(raw))
    except ImportError:
        pass
    found = rates(jobs)
    best = {label: max(values) for label, values in found.items()}
    ours_raw, ours_wire, ours_typed = best["raw"], best["wire"], best["typed"]
    cosem = best.get("cosem")
    gurux_n = max(200, args.frames // 10)
    theirs = max(rates({"gurux": (lambda: gurux(raw[:gurux_n]), gurux_n)}, 3)["gurux"])
    print(f"frames: iskra-am550 push, {len(raw[0])} bytes APDU, SC 0x30 (AES-128-GCM)")
    print("frames/s: the best of 5 rounds, CPU time of this process")
    print(f"ours       (APDU -> MeterReading)          {ours_raw:10.0f} frames/s")
    print(f"ours       (HDLC segments -> MeterReading) {ours_wire:10.0f} frames/s")
    print(f"ours       (APDU -> typed COSEM data)      {ours_typed:10.0f} frames/s")
    if cosem is None:
        print("dlms-cosem is not installed: pip install -e '.[bench]'")
    else:
        print(f"dlms-cosem (APDU -> COSEM data)            {cosem:10.0f} frames/s")
    print(f"gurux      (APDU -> value tree)            {theirs:10.0f} frames/s")
    if cosem is not None:
        print("ratios: the median of the 5 rounds' ratios (both jobs of a ratio in one round)")
        print(f"ratio ours/dlms-cosem, to a MeterReading   "
              f"{paired(found['raw'], found['cosem']):10.2f} x  (target >= 1.0)")
        print(f"ratio ours/dlms-cosem, HDLC to a reading   "
              f"{paired(found['wire'], found['cosem']):10.2f} x")
        print(f"ratio ours/dlms-cosem, same stages         "
              f"{paired(found['typed'], found['cosem']):10.2f} x")
    print(f"ratio ours/gurux (best rates)              {ours_raw / theirs:10.1f} x")


if __name__ == "__main__":
    main()
