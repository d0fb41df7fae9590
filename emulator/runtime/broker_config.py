"""amqtt's configuration for the emulator's brokers (the lone device's embedded one and a
fleet's broker process), with nothing else imported: the fleet's broker process loads
this and amqtt only."""

from __future__ import annotations

from typing import Any


def bind_address(host: str, port: int) -> str:
    """amqtt's `HOST:PORT`, with brackets around an IPv6 address."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def broker_config(host: str, port: int) -> dict[str, Any]:
    return {
        "listeners": {"default": {"type": "tcp", "bind": bind_address(host, port)}},
        # Only anonymous access: no packet logging, no $SYS publishing.
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin":
                    {"allow_anonymous": True}},
    }


def bound_port(broker: Any, requested: int) -> int:
    """The port an amqtt broker's default listener bound (`requested` if it cannot say)."""
    server = getattr(broker, "_servers", {}).get("default")
    sockets = getattr(getattr(server, "instance", None), "sockets", None)
    return int(sockets[0].getsockname()[1]) if sockets else requested
