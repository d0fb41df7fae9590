"""The one exception base of the device core."""


class DeviceError(Exception):
    """Base of every exception emulator.device raises."""


class SettingsError(DeviceError):
    """A settings request that cannot be applied; the message is shown to the client (400)."""
