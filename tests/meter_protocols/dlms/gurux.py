"""gurux-dlms as the independent oracle of the DLMS tests: decode a push APDU (ciphered
with `keys`, or plain) into gurux's tree of values."""

from __future__ import annotations

import contextlib
import io

from gurux_dlms import GXByteBuffer, GXReplyData
from gurux_dlms.enums import InterfaceType, Security
from gurux_dlms.secure import GXDLMSSecureClient

from meter_protocols.dlms import DlmsKeys


def gurux_decode(apdu: bytes, keys: DlmsKeys | None) -> object:
    client = GXDLMSSecureClient(True, clientAddress=16, serverAddress=1,
                                interfaceType=InterfaceType.PDU)
    if keys is not None:
        client.ciphering.security = (Security.AUTHENTICATION_ENCRYPTION
                                     if keys.authentication_key else Security.ENCRYPTION)
        client.ciphering.blockCipherKey = keys.encryption_key
        client.ciphering.authenticationKey = keys.authentication_key or bytes(16)
    reply, notify = GXReplyData(), GXReplyData()
    with contextlib.redirect_stdout(io.StringIO()):  # gurux prints as it parses
        client.getData(GXByteBuffer(apdu), reply, notify)
    assert notify.complete
    return notify.value
