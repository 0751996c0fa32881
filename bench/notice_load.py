"""Load test: 200 concurrent enterprises looking up their notices on a running server.

    .venv/bin/python bench/notice_load.py [--clients 200] [--requests 20] [--think-ms 0]
                                           [--workers 2] [--database-url URL]

Starts ``randinspect serve`` on 127.0.0.1 (a free port) with a fresh database, loads the
sample county through the API (upload, plan, draw), reads the notice codes from the database,
then runs ``--clients`` concurrent clients, each making ``--requests`` look-ups (waiting
``--think-ms`` between its own requests), and prints throughput and p50/p90/p99 latency.
Only loopback traffic; every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample_county"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(base: str, seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("server did not come up")


def prepare(base: str, url: str) -> list[tuple[str, str]]:
    """The sample county drawn officially (the agency tree, a planner and a leader, approval,
    commitment, public numbers): only an official draw's notices are found by the look-up."""
    from api.agencies import load_tree
    from api.db import make_engine, session_factory
    from api.migrate import upgrade
    from api.models import User
    from api.security import hash_password

    upgrade(url)
    with session_factory(make_engine(url), write=True)() as s:
        load_tree(s, SAMPLE / "agencies.csv")
        for name in ("bench", "bench-leader"):
            role = "leader" if name.endswith("leader") else "planner"
            s.add(User(username=name, role=role, agency_id="SJ130000", password_hash=hash_password("bench-password-1")))
        s.commit()
    c = httpx.Client(base_url=base, timeout=120)

    def token(name: str) -> dict:
        raw = c.post("/api/login", data={"username": name, "password": "bench-password-1"}).json()["access_token"]
        return {"Authorization": f"Bearer {raw}"}

    c.headers.update(token("bench"))
    leader = token("bench-leader")
    files = [("files", (p.name, p.read_bytes())) for p in sorted(SAMPLE.iterdir()) if p.suffix in (".csv", ".xlsx")]
    reg = c.post("/api/registries", data={"name": "sample"}, files=files)
    reg.raise_for_status()
    spec = _jsonable(yaml.safe_load((SAMPLE / "plan.yaml").read_text(encoding="utf-8")))
    plan = c.post("/api/plans", json={"registry_id": reg.json()["id"], "name": "bench", "spec": spec})
    plan.raise_for_status()
    plan_id = plan.json()["id"]
    c.post(f"/api/plans/{plan_id}/approve", headers=leader).raise_for_status()
    c.post(f"/api/plans/{plan_id}/commitment", json={"source": "bench numbers"}).raise_for_status()
    draw = c.post(f"/api/plans/{plan_id}/draws", json={"beacon": "3 11 17 22 28 31; 9"})
    draw.raise_for_status()
    for _ in range(600):
        d = c.get(f"/api/draws/{draw.json()['id']}").json()
        if d["status"] != "running":
            break
        time.sleep(0.5)
    if d["status"] != "done":
        raise SystemExit(f"draw {d['status']}: {d.get('error')}")
    with create_engine(url).connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT credit_code, notice_code FROM visits"))]


def _jsonable(obj):
    import datetime as dt

    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, dt.date):
        return obj.isoformat()
    return obj


async def client_loop(base: str, codes, n: int, think: float, lat: list[float], errors: list[int], rng) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        for _ in range(n):
            credit, code = rng.choice(codes)
            t = time.perf_counter()
            r = await c.post("/api/notices/lookup", json={"credit_code": credit, "notice_code": code})
            lat.append(time.perf_counter() - t)
            if r.status_code != 200:
                errors.append(r.status_code)
            if think:
                await asyncio.sleep(think * rng.uniform(0.5, 1.5))


async def run_load(base: str, codes, clients: int, requests: int, think: float) -> tuple[list[float], list[int], float]:
    lat: list[float] = []
    errors: list[int] = []
    t = time.perf_counter()
    await asyncio.gather(
        *(client_loop(base, codes, requests, think, lat, errors, random.Random(k)) for k in range(clients))
    )
    return lat, errors, time.perf_counter() - t


WRK_SCRIPT = """
codes = {%s}
counter = 0
request = function()
  counter = counter + 1
  local c = codes[(counter %% #codes) + 1]
  local body = '{"credit_code":"' .. c[1] .. '","notice_code":"' .. c[2] .. '"}'
  return wrk.format("POST", "/api/notices/lookup", {["Content-Type"] = "application/json"}, body)
end
think = %d
if think > 0 then
  delay = function() return math.random(think / 2, think * 3 / 2) end
end
done = function(summary, latency, requests)
  io.write(string.format("wrk: requests %%d, errors %%d (status %%d), throughput %%.0f req/s\\n",
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout,
    summary.errors.status, summary.requests / (summary.duration / 1e6)))
  io.write(string.format("latency ms: p50 %%.1f  p90 %%.1f  p99 %%.1f  max %%.1f  mean %%.1f\\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000))
end
"""


def run_wrk(base: str, codes, clients: int, seconds: int, tmp: Path, think_ms: float = 0) -> str:
    """``clients`` open connections, each sending its next look-up when the last is answered
    (after ``think_ms`` ± 50 % when given: each client is an enterprise, not a flood)."""
    script = tmp / "lookup.lua"
    table = ",".join('{{"{}","{}"}}'.format(*c) for c in codes)
    script.write_text(WRK_SCRIPT % (table, int(think_ms)), encoding="utf-8")
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", str(clients), "-d", f"{seconds}s", "--timeout", "10s", "-s", str(script), base],
        capture_output=True, text=True, check=True,
    ).stdout
    return "\n".join(line for line in out.splitlines() if line.startswith(("wrk:", "latency ms:")))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--requests", type=int, default=20)
    ap.add_argument("--think-ms", type=float, default=0.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--database-url")
    ap.add_argument("--client", choices=["wrk", "python"], default="wrk" if shutil.which("wrk") else "python",
                    help="wrk (Debian package; C, light on the CPU the server shares) or the asyncio client")
    ap.add_argument("--seconds", type=int, default=15, help="wrk: how long to load")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ri-load-"))
    url = args.database_url or f"sqlite:///{tmp / 'load.db'}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "RANDINSPECT_DATABASE_URL": url}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(args.workers), "--log-level", "warning"],
        env=env, cwd=ROOT,
    )
    try:
        wait_up(base)
        codes = prepare(base, url)
        load = f"{args.seconds} s" if args.client == "wrk" else f"{args.requests} look-ups each"
        print(f"{len(codes)} notices; {args.clients} concurrent clients ({args.client}), {load}, think {args.think_ms} ms, "
              f"{args.workers} server workers, {url.split(':')[0]}")
        asyncio.run(run_load(base, codes, 20, 5, 0))  # warm-up
        if args.client == "wrk":
            print(run_wrk(base, codes, args.clients, args.seconds, tmp, args.think_ms))
            return
        lat, errors, wall = asyncio.run(run_load(base, codes, args.clients, args.requests, args.think_ms / 1000))
        lat.sort()
        q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000  # noqa: E731
        print(f"requests {len(lat)}, errors {len(errors)}, wall {wall:.2f}s, throughput {len(lat) / wall:.0f} req/s")
        print(f"latency ms: p50 {q(0.50):.1f}  p90 {q(0.90):.1f}  p99 {q(0.99):.1f}  max {lat[-1] * 1000:.1f}  mean {statistics.mean(lat) * 1000:.1f}")
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
