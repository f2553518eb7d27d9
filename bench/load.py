"""A small HTTP load generator for `make bench`: N threads, each sending GET requests to one
loopback URL for a fixed time, printing one JSON line (requests, errors, rps, p50/p95/p99 ms).

Run as its own process (`python -m bench.load …`) so its CPU is not the server's. Loopback only and
bounded in threads and seconds: it is a benchmark, never a tool for hitting other machines.
"""
from __future__ import annotations

import argparse
import http.client
import json
import threading
import time

LOOPBACK = ("127.0.0.1", "::1", "localhost")
MAX_CONNECTIONS = 256
MAX_SECONDS = 300


def percentile(sorted_ms: list[float], q: float) -> float | None:
    if not sorted_ms:
        return None
    return sorted_ms[min(len(sorted_ms) - 1, round(q * (len(sorted_ms) - 1)))]


def run_load(host: str, port: int, path: str, cookie: str, connections: int, seconds: float,
             ) -> dict[str, float | int | None]:
    if host not in LOOPBACK:
        raise SystemExit(f"refusing to load {host}: loopback only")
    connections = min(connections, MAX_CONNECTIONS)
    seconds = min(seconds, MAX_SECONDS)
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    deadline = time.perf_counter() + seconds
    headers = {"Cookie": cookie, "Connection": "keep-alive"}

    def worker(i: int) -> None:
        conn: http.client.HTTPConnection | None = None
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(host, port, timeout=10)
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    errors[i] += 1
                # gunicorn's sync workers close after each response: reconnect then.
                if response.getheader("Connection", "").lower() == "close" or response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                errors[i] += 1
                if conn is not None:
                    conn.close()
                conn = None
                continue
            latencies[i].append((time.perf_counter() - started) * 1000)
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(connections)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 15)
    elapsed = time.perf_counter() - started
    all_ms = sorted(ms for per_thread in latencies for ms in per_thread)
    total = len(all_ms) + sum(errors)
    return {"requests": total, "errors": sum(errors), "rps": len(all_ms) / elapsed if elapsed else 0.0,
            "p50_ms": percentile(all_ms, 0.50), "p95_ms": percentile(all_ms, 0.95),
            "p99_ms": percentile(all_ms, 0.99), "seconds": elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--cookie", default="")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    print(json.dumps(run_load(args.host, args.port, args.path, args.cookie, args.connections,
                              args.seconds)))


if __name__ == "__main__":
    main()
