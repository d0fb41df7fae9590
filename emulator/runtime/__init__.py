"""What the meter link and the services share: reconnection backoff, a quiet logger and the
per-device log prefix. Pure of device state; imports nothing from api, meter or services."""
