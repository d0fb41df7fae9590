"""HTTP throughput of /api/v1/report and /api/v1/system against a bare aiohttp handler that
serves the same bytes, driven by wrk (a C load generator: a Python client saturates first).

    python bench/bench_http.py [--seconds 2] [--rounds 5] [--connections 16]

One server process holds both: the emulator (virtual ensor-ers meter, a report a second, the
device's whole middleware) and, on another port, a bare aiohttp application whose two
handlers return the bodies the emulator served when the server started, with the headers it
sent (fixed bytes; the same content type, no-store and nosniff headers, built once as the
device builds them; no middleware). wrk (Debian package `wrk`) runs against each URL in
turn, in rounds, in this one run; the best rate of each is kept and the ratios emulator /
bare are printed, and also the server process's CPU time per request (from /proc), the
least CPU of the rounds, whose ratio a loaded machine disturbs less, and the same for the
server's event loop thread alone (which serves every request; the process's other threads,
zeroconf's among them, serve none). Targets (issue 17):
report >= 0.8, system >= 0.6.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SERVER = textwrap.dedent("""
    import asyncio, sys, tempfile
    from pathlib import Path
    import aiohttp
    from aiohttp import web
    from multidict import CIMultiDict
    sys.path.insert(0, sys.argv[1])
    from emulator.app import EmulatorApp
    from emulator.config import AppConfig

    async def main():
        app = EmulatorApp(AppConfig(http_port=0, data_dir=Path(tempfile.mkdtemp())))
        await app.start()
        await asyncio.sleep(2.5)  # a few reports exist
        bodies, headers = {}, {}
        async with aiohttp.ClientSession() as session:
            for name in ("report", "system"):
                async with session.get(f"{app.url}/api/v1/{name}") as response:
                    bodies[name] = await response.read()
                    # The device's own headers (content type, no-store, nosniff); aiohttp
                    # writes Date, Server and Content-Length for both servers alike.
                    headers[name] = CIMultiDict(
                        (key, value) for key, value in response.headers.items()
                        if key not in ("Date", "Server", "Content-Length"))

        # Built once, as the device builds its own (emulator.api.common.JSON_HEADERS).
        def handler(body, sent):
            async def serve(request):
                return web.Response(body=body, headers=sent)
            return serve

        bare = web.Application()
        for name, body in bodies.items():
            bare.router.add_get(f"/{name}", handler(body, headers[name]))
        runner = web.AppRunner(bare, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        sizes = " ".join(str(len(bodies[n])) for n in ("report", "system"))
        print(app.url, f"http://127.0.0.1:{port}", sizes, flush=True)
        print("; ".join(f"{k}: {v}" for k, v in headers["report"].items()), flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())
""")

_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
_COUNT = re.compile(r"(\d+) requests in")
_LATENCY = re.compile(r"Latency\s+(\S+)")


def cpu_seconds(pid: int, loop_only: bool = False) -> float:
    """User + system CPU time of process `pid` so far (Linux /proc), or of its main thread
    only (the event loop, which serves every request)."""
    where = f"/proc/{pid}/task/{pid}/stat" if loop_only else f"/proc/{pid}/stat"
    fields = Path(where).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def wrk(url: str, seconds: float, connections: int,
              server: int) -> tuple[float, str, float, float]:
    """Requests per second, mean latency, and the server's CPU microseconds per request:
    the whole process's, and its event loop thread's."""
    cpu0, loop0 = cpu_seconds(server), cpu_seconds(server, loop_only=True)
    proc = await asyncio.create_subprocess_exec(
        "wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out = (await proc.communicate())[0].decode()
    cpu = cpu_seconds(server) - cpu0
    loop = cpu_seconds(server, loop_only=True) - loop0
    rate = _RATE.search(out)
    count = _COUNT.search(out)
    latency = _LATENCY.search(out)
    if proc.returncode != 0 or rate is None:
        raise SystemExit(f"wrk failed on {url}:\n{out}")
    if "Non-2xx" in out or "Socket errors" in out:
        print(f"  (wrk reports errors on {url}: {out.strip().splitlines()[-3:]})")
    requests = int(count.group(1)) if count else 0
    per_request = cpu / requests * 1e6 if requests else float("nan")
    loop_per_request = loop / requests * 1e6 if requests else float("nan")
    return (float(rate.group(1)), latency.group(1) if latency else "?", per_request,
            loop_per_request)


async def main(args: argparse.Namespace) -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("bench_http.py needs wrk: apt-get install wrk (Debian package)")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SERVER, str(ROOT), stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    url, bare_url, report_size, system_size = (await proc.stdout.readline()).decode().split()
    sent = (await proc.stdout.readline()).decode().strip()
    try:
        print(f"wrk -t1 -c{args.connections} -d{args.seconds:g}s; bodies: report "
              f"{report_size} B, system {system_size} B; server: one process, one core")
        print(f"headers both servers send besides Date, Server, Content-Length: {sent}")
        print(f"load average before: {os.getloadavg()[0]:.2f} (a shared machine)")
        await wrk(url + "/api/v1/report", 1, args.connections, proc.pid)  # warm-up
        targets = (("emulator /api/v1/report", url + "/api/v1/report"),
                   ("bare aiohttp, same report bytes", bare_url + "/report"),
                   ("emulator /api/v1/system", url + "/api/v1/system"),
                   ("bare aiohttp, same system bytes", bare_url + "/system"))
        # Rounds that alternate the four targets, the best of each kept: a machine shared
        # with other work disturbs some runs, and alternating spreads that over all four.
        results: dict[str, float] = {}
        latencies: dict[str, str] = {}
        cpus: dict[str, float] = {}
        loops: dict[str, float] = {}
        for _ in range(args.rounds):
            for label, target in targets:
                rate, latency, cpu, loop = await wrk(target, args.seconds, args.connections,
                                                     proc.pid)
                if rate > results.get(label, 0.0):
                    results[label], latencies[label] = rate, latency
                cpus[label] = min(cpus.get(label, float("inf")), cpu)
                loops[label] = min(loops.get(label, float("inf")), loop)
        print(f"best of {args.rounds} rounds; server CPU a request: process (loop thread)")
        for label, _ in targets:
            print(f"{label:34s} {results[label]:9.0f} requests/s  "
                  f"{cpus[label]:6.1f} us ({loops[label]:5.1f} us)  "
                  f"mean latency {latencies[label]}")
    finally:
        proc.terminate()
        await proc.wait()
    report = results["emulator /api/v1/report"] / results["bare aiohttp, same report bytes"]
    system = results["emulator /api/v1/system"] / results["bare aiohttp, same system bytes"]
    print(f"ratio report / bare                {report:9.2f}  (target >= 0.8)")
    print(f"ratio system / bare                {system:9.2f}  (target >= 0.6)")
    # The server's CPU per request is less disturbed by other work on the machine than the
    # rate is (wrk's own share and the scheduler's choices fall out): the same ratios. The
    # event loop thread's CPU leaves out the process's other threads (zeroconf's own loop,
    # answering whatever multicast the machine carries), which serve no request.
    for name in ("report", "system"):
        bare, ours = f"bare aiohttp, same {name} bytes", f"emulator /api/v1/{name}"
        print(f"ratio {name} / bare, by server CPU  {cpus[bare] / cpus[ours]:9.2f}  "
              f"(loop thread {loops[bare] / loops[ours]:.2f})")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=2.0, help="per wrk run")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    asyncio.run(main(parser.parse_args()))
