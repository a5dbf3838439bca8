#!/usr/bin/env python3
"""redis-benchmark against ferrodis and redis-server on this machine, alternating runs.

    python3 benches/throughput_ratio.py [path/to/ferrodis] [--runs N] [--requests N]
        [--tests set,get,lpush,...] [--pipeline 1,16] [--clients N] [-- server args ...]

For each pipeline depth and each run, a fresh server of each kind (the order alternates from
run to run) on a free port with the same arguments (for example `-- --appendonly yes
--appendfsync always`), then `redis-benchmark -t <tests> -P <depth> -c <clients> --csv`.
Prints requests per second per run, the medians and the ferrodis / redis-server ratio of the
medians. Python 3 standard library only; defaults to target/release/ferrodis.
"""

import csv
import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port):
    for _ in range(200):
        r = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True)
        if r.stdout.strip() == "PONG":
            return
        time.sleep(0.05)
    raise RuntimeError(f"no server on port {port}")


def run_once(binary, server_args, tests, pipeline, clients, requests):
    port = free_port()
    with tempfile.TemporaryDirectory() as d:
        server = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", d, "--save", ""]
            + server_args,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_ready(port)
            out = subprocess.run(
                ["redis-benchmark", "-p", str(port), "-t", tests, "-P", str(pipeline),
                 "-c", str(clients), "-n", str(requests), "-r", "100000", "--csv"],
                capture_output=True, text=True, check=True).stdout
        finally:
            server.kill()
            server.wait()
    rows = csv.reader(io.StringIO(out))
    next(rows)
    return {row[0]: float(row[1]) for row in rows}


def main():
    args = sys.argv[1:]
    server_args = []
    if "--" in args:
        server_args = args[args.index("--") + 1:]
        args = args[:args.index("--")]
    opts = {"--runs": "3", "--requests": "200000", "--tests": "set,get", "--pipeline": "1,16",
            "--clients": "50"}
    binary = "target/release/ferrodis"
    while args:
        a = args.pop(0)
        if a in opts:
            opts[a] = args.pop(0)
        else:
            binary = a
    servers = [("ferrodis", binary), ("redis-server", "redis-server")]
    print(f"server args: {' '.join(server_args) or '(none)'}; load {os.getloadavg()[0]:.2f}")
    for pipeline in [int(p) for p in opts["--pipeline"].split(",")]:
        results = {name: {} for name, _ in servers}
        for run in range(int(opts["--runs"])):
            for name, path in (servers if run % 2 == 0 else servers[::-1]):
                got = run_once(path, server_args, opts["--tests"], pipeline,
                               int(opts["--clients"]), int(opts["--requests"]))
                for test, rps in got.items():
                    results[name].setdefault(test, []).append(rps)
        print(f"\n-P {pipeline}: requests/s, median of {opts['--runs']} (runs)")
        for test in results["ferrodis"]:
            f, r = results["ferrodis"][test], results["redis-server"].get(test, [0])
            fm, rm = statistics.median(f), statistics.median(r)
            print(f"  {test:<32} ferrodis {fm:>10.0f}  redis {rm:>10.0f}  ratio {fm / rm:5.2f}"
                  f"   ({', '.join(f'{x:.0f}' for x in f)} | {', '.join(f'{x:.0f}' for x in r)})")
    print(f"\nload at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
