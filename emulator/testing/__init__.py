"""The pytest plugin client developers get with the package: an emulated whatwatt Go per
test (fixtures `whatwatt_device` and `whatwatt_factory`, marker `@pytest.mark.whatwatt`).
Usable without pytest too: `with WhatwattDevice(path) as device: ...`."""

from emulator.testing.device import DeviceOptions, WhatwattDevice
from emulator.testing.http import ControlError, EventStream, Response

__all__ = ["ControlError", "DeviceOptions", "EventStream", "Response", "WhatwattDevice"]
