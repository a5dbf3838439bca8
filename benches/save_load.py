#!/usr/bin/env python3
"""RDB save and load time of ferrodis and redis-server for the same dataset, alternating runs.

    python3 benches/save_load.py [path/to/ferrodis] [--runs N] [--keys N]

Each run: a fresh server of each kind (the order alternates) gets `DEBUG POPULATE <keys>`, then
SAVE is timed from the client; the server is killed and a new one started on the same
directory, and the load time is the time from its start until it answers PING with the keys in
place (both servers refuse commands with -LOADING meanwhile). Prints the medians, the dump
sizes and the ferrodis / redis-server ratios. Python 3 standard library only; defaults to
target/release/ferrodis.
"""

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


def cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True,
                          text=True).stdout.strip()


def start(binary, port, d):
    return subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", d,
                             "--save", "", "--appendonly", "no", "--enable-debug-command", "yes"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_serving(port, keys):
    while True:
        if cli(port, "ping") == "PONG" and cli(port, "dbsize") == str(keys):
            return
        time.sleep(0.005)


def run_once(binary, keys):
    port = free_port()
    with tempfile.TemporaryDirectory() as d:
        server = start(binary, port, d)
        try:
            while cli(port, "ping") != "PONG":
                time.sleep(0.02)
            assert cli(port, "debug", "populate", str(keys)) == "OK"
            t = time.monotonic()
            assert cli(port, "save") == "OK"
            save = time.monotonic() - t
        finally:
            server.kill()
            server.wait()
        size = os.path.getsize(os.path.join(d, "dump.rdb"))
        t = time.monotonic()
        server = start(binary, port, d)
        try:
            wait_serving(port, keys)
            load = time.monotonic() - t
        finally:
            server.kill()
            server.wait()
    return save, load, size


def main():
    args = sys.argv[1:]
    opts = {"--runs": 3, "--keys": 1_000_000}
    binary = "target/release/ferrodis"
    while args:
        a = args.pop(0)
        if a in opts:
            opts[a] = int(args.pop(0))
        else:
            binary = a
    servers = [("ferrodis", binary), ("redis-server", "redis-server")]
    results = {name: [] for name, _ in servers}
    for run in range(opts["--runs"]):
        for name, path in (servers if run % 2 == 0 else servers[::-1]):
            save, load, size = run_once(path, opts["--keys"])
            results[name].append((save, load, size))
            print(f"{name:<13} save {save:6.3f} s  load {load:6.3f} s  file {size} B", flush=True)
    med = {name: (statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows))
           for name, rows in results.items()}
    for name, (save, load) in med.items():
        print(f"{name:<13} median save {save:6.3f} s  load {load:6.3f} s")
    f, r = med["ferrodis"], med["redis-server"]
    print(f"ferrodis / redis-server time: save {f[0] / r[0]:.2f}, load {f[1] / r[1]:.2f}")


if __name__ == "__main__":
    main()
