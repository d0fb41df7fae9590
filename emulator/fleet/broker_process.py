"""The fleet's one MQTT broker, in a process of its own.

    python -m emulator.fleet.broker_process HOST PORT

Runs amqtt's broker (the embedded broker's configuration) on HOST:PORT (0: a free port),
prints `bound PORT` on stdout once it listens, and serves until its standard input closes
(the fleet stopped or died) or it is terminated.

Why a process: hundreds of devices publishing to a broker in their own event loop made
the broker's work (receiving, matching, delivering each message) a tenth of that loop's
time, and its bursts delayed the devices' reports. In a process of its own it runs on
another core; the fleet still starts one broker for all its devices (docs/decisions.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading

from amqtt.broker import Broker
from amqtt.errors import BrokerError

from emulator.runtime.broker_config import bound_port, broker_config

READY = "bound"


async def serve(host: str, port: int) -> None:
    broker = Broker(broker_config(host, port))
    await broker.start()
    try:
        print(f"{READY} {bound_port(broker, port)}", flush=True)
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        # The fleet holds our standard input: its end (the fleet gone) ends us too. A
        # daemon thread blocks on it, so nothing waits for that thread at exit.
        def watch_stdin() -> None:
            with contextlib.suppress(OSError):
                while os.read(0, 4096):  # nothing is kept: only the end matters
                    pass
            with contextlib.suppress(RuntimeError):  # the loop already closed
                loop.call_soon_threadsafe(stop.set)

        threading.Thread(target=watch_stdin, name="stdin", daemon=True).start()
        await stop.wait()
    finally:
        with contextlib.suppress(Exception):
            await broker.shutdown()


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[1].isdigit():
        print("usage: python -m emulator.fleet.broker_process HOST PORT", file=sys.stderr)
        return 2
    try:
        asyncio.run(serve(argv[0], int(argv[1])))
    except (OSError, BrokerError) as exc:
        # amqtt wraps the listener's OSError in its text: "...: address already in use".
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else \
            str(exc).rsplit(": ", 1)[-1]
        # The fleet says it, as its one line (runner.Fleet._start_broker).
        print(f"cannot start the fleet's MQTT broker on {argv[0]}:{argv[1]}: {why}",
              file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
