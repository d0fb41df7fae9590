"""DLMS/COSEM push meters: HDLC and M-Bus framing, AES-GCM, GBT, COSEM objects, scalers.

The decoder (`DlmsDecoder`) is sans-I/O; `encoder` builds the frames virtual meters push.
"""

from meter_protocols.dlms.decoder import DlmsDecoder
from meter_protocols.dlms.link import Framing
from meter_protocols.dlms.scalers import (
    CustomScaler,
    ScalerConfig,
    ScalerConfigError,
    ScalersSet,
    custom_scalers_error,
    custom_scalers_json,
    parse_custom_scalers,
    scalers_current,
)
from meter_protocols.dlms.security import DlmsKeys, SecurityState

__all__ = [
    "CustomScaler",
    "DlmsDecoder",
    "DlmsKeys",
    "Framing",
    "ScalerConfig",
    "ScalerConfigError",
    "ScalersSet",
    "SecurityState",
    "custom_scalers_error",
    "custom_scalers_json",
    "parse_custom_scalers",
    "scalers_current",
]
