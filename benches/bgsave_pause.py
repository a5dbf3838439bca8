#!/usr/bin/env python3
"""Client-visible pauses and peak memory during BGSAVE: ferrodis against redis-server.

    python3 benches/bgsave_pause.py [path/to/ferrodis] [--runs N] [--keys N] [--writers N]
                                    [--only ferrodis|redis-server]

For each run and each server (the order alternates from run to run): a fresh server on a free
port, `--keys` string keys (16-byte names, 64-byte values) loaded with `redis-cli --pipe`, then
`--writers` client processes doing SET on random existing keys and INCR on a counter in a
closed loop, one request at a time, recording each round trip. After a second of writes,
BGSAVE; the main process polls INFO persistence every 10 ms until the save is done and
samples memory meanwhile. Reported per run:

- pause: the longest round trip and its 99.9th percentile among requests in flight during
  the save (and the same before the save, as the baseline);
- memory: the peak during the save of the server's proportional set size (PSS, from
  /proc/<pid>/smaps_rollup) summed over the server and its children (redis-server's fork
  child shares pages with its parent: PSS counts each page once), against the server's RSS
  with the dataset loaded before the save. For ferrodis VmHWM (reset before the save through
  /proc/<pid>/clear_refs when allowed) is shown too.

Then per server the median, min and max over runs, and ferrodis / redis-server ratios of the
medians. Python 3 standard library only; defaults to target/release/ferrodis.
"""

import multiprocessing as mp
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time

VALUE = b"v" * 64


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def key(i):
    return b"key:%012d" % i


def read_reply(sock, buf):
    """Reads one simple reply (status, error, integer or bulk) from `sock`; returns the rest."""
    while True:
        end = buf.find(b"\r\n")
        if end >= 0:
            if buf[:1] == b"$":
                n = int(buf[1:end])
                total = end + 2 + (n + 2 if n >= 0 else 0)
                if len(buf) >= total:
                    return buf[:total], buf[total:]
            else:
                return buf[: end + 2], buf[end + 2 :]
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buf += chunk


def writer(port, keys, seed, stop, results):
    """Closed-loop SET/INCR client: (start, round trip) of every request, in seconds."""
    rng = random.Random(seed)
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = b""
    counter = b"counter:%d" % seed
    samples = []
    n = 0
    while not stop.is_set():
        if n % 2:
            req = resp(b"INCR", counter)
        else:
            req = resp(b"SET", key(rng.randrange(keys)), VALUE)
        t0 = time.perf_counter()
        sock.sendall(req)
        _, buf = read_reply(sock, buf)
        samples.append((t0, time.perf_counter() - t0))
        n += 1
    sock.close()
    results.put(samples)


class Client:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def cmd(self, *args):
        self.sock.sendall(resp(*args))
        reply, self.buf = read_reply(self.sock, self.buf)
        if reply[:1] == b"$":
            return reply[reply.find(b"\r\n") + 2 : -2].decode()
        return reply[1:-2].decode()

    def info_field(self, section, field):
        for line in self.cmd("INFO", section).splitlines():
            if line.startswith(field + ":"):
                return line.split(":", 1)[1]
        return ""


def status_kb(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def pss(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def children(pid):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out


def settled_rss(pid):
    last = status_kb(pid, "VmRSS")
    for _ in range(20):
        time.sleep(0.5)
        now = status_kb(pid, "VmRSS")
        if abs(now - last) < last / 200:
            return now
        last = now
    return last


def percentile(sorted_values, p):
    if not sorted_values:
        return 0.0
    i = min(len(sorted_values) - 1, int(round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[i]


def measure(name, binary, keys, writers):
    port = free_port()
    with tempfile.TemporaryDirectory() as d:
        server = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=d,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).returncode:
                time.sleep(0.05)
            data = os.path.join(d, "load.resp")
            with open(data, "wb") as f:
                for i in range(keys):
                    f.write(resp(b"SET", key(i), VALUE))
            with open(data, "rb") as f:
                subprocess.run(["redis-cli", "-p", str(port), "--pipe"], stdin=f, check=True,
                               capture_output=True)
            os.remove(data)
            c = Client(port)
            assert int(c.info_field("keyspace", "db0").split(",")[0].split("=")[1]) == keys
            dataset_rss = settled_rss(server.pid)

            stop = mp.Event()
            results = mp.Queue()
            procs = [mp.Process(target=writer, args=(port, keys, w, stop, results))
                     for w in range(writers)]
            for p in procs:
                p.start()
            time.sleep(1.0)
            try:
                with open(f"/proc/{server.pid}/clear_refs", "w") as f:
                    f.write("5")
                hwm_reset = True
            except OSError:
                hwm_reset = False
            peak = 0
            t_start = time.perf_counter()
            reply = c.cmd("BGSAVE")
            assert reply.startswith("Background saving started"), reply
            while True:
                peak = max(peak, pss(server.pid) + sum(pss(ch) for ch in children(server.pid)))
                if c.info_field("persistence", "rdb_bgsave_in_progress") == "0":
                    break
                time.sleep(0.01)
            t_end = time.perf_counter()
            hwm = status_kb(server.pid, "VmHWM")
            status = c.info_field("persistence", "rdb_last_bgsave_status")
            time.sleep(0.3)
            stop.set()
            samples = []
            for _ in procs:
                samples += results.get()
            for p in procs:
                p.join()
        finally:
            server.kill()
            server.wait()
    during = sorted(rt for t0, rt in samples if t0 <= t_end and t0 + rt >= t_start)
    before = sorted(rt for t0, rt in samples if t0 + rt < t_start)
    return {
        "server": name,
        "status": status,
        "save_s": t_end - t_start,
        "n": len(during),
        "max_ms": during[-1] * 1e3 if during else 0.0,
        "p999_ms": percentile(during, 99.9) * 1e3,
        "base_max_ms": before[-1] * 1e3 if before else 0.0,
        "base_p999_ms": percentile(before, 99.9) * 1e3,
        "dataset_mb": dataset_rss / 2**20,
        "peak_mb": peak / 2**20,
        "peak_ratio": peak / dataset_rss,
        "hwm_ratio": hwm / dataset_rss if hwm_reset and name == "ferrodis" else None,
    }


def main():
    args = sys.argv[1:]
    opts = {"--runs": 3, "--keys": 1_000_000, "--writers": 4}
    binary = "target/release/ferrodis"
    only = None
    while args:
        a = args.pop(0)
        if a in opts:
            opts[a] = int(args.pop(0))
        elif a == "--only":
            only = args.pop(0)
        else:
            binary = a
    servers = [("ferrodis", binary), ("redis-server", "redis-server")]
    servers = [s for s in servers if only in (None, s[0])]
    print(f"{opts['--keys']} keys, {opts['--writers']} writers, {opts['--runs']} runs per server; "
          f"load: {os.getloadavg()[0]:.2f}")
    print(f"{'server':<13}{'save s':>7}{'reqs':>8}{'max ms':>9}{'p99.9 ms':>10}"
          f"{'base max':>10}{'base p99.9':>11}{'data MB':>9}{'peak MB':>9}{'peak x':>8}{'HWM x':>7}")
    rows = []
    for run in range(opts["--runs"]):
        order = servers if run % 2 == 0 else servers[::-1]
        for name, path in order:
            r = measure(name, path, opts["--keys"], opts["--writers"])
            rows.append(r)
            hwm = f"{r['hwm_ratio']:.2f}" if r["hwm_ratio"] else "-"
            print(f"{r['server']:<13}{r['save_s']:>7.2f}{r['n']:>8}{r['max_ms']:>9.2f}"
                  f"{r['p999_ms']:>10.2f}{r['base_max_ms']:>10.2f}{r['base_p999_ms']:>11.2f}"
                  f"{r['dataset_mb']:>9.0f}{r['peak_mb']:>9.0f}{r['peak_ratio']:>8.2f}{hwm:>7}"
                  f"{'' if r['status'] == 'ok' else '  save failed'}", flush=True)
    print()
    medians = {}
    for name, _ in servers:
        mine = [r for r in rows if r["server"] == name]
        medians[name] = {}
        for field in ("max_ms", "p999_ms", "peak_ratio"):
            values = [r[field] for r in mine]
            medians[name][field] = statistics.median(values)
            print(f"{name:<13}{field:<11} median {statistics.median(values):8.2f}  "
                  f"min {min(values):8.2f}  max {max(values):8.2f}")
    if len(medians) < 2:
        return
    f, r = medians["ferrodis"], medians["redis-server"]
    print(f"\nferrodis / redis-server (medians): max pause {f['max_ms'] / r['max_ms']:.2f}, "
          f"p99.9 {f['p999_ms'] / r['p999_ms']:.2f}, peak memory {f['peak_ratio'] / r['peak_ratio']:.2f}")
    print(f"load at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
