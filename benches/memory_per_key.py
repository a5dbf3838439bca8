#!/usr/bin/env python3
"""Bytes per key of ferrodis and redis-server side by side (issue 7's datasets).

    python3 benches/memory_per_key.py [path/to/ferrodis] [dataset ...]

Each dataset is loaded into a fresh server of each kind with `redis-cli --pipe`; the figure is
the growth of used_memory and of the process's RSS (after MEMORY PURGE, once it has settled)
divided by the number of keys (elements for the list). Defaults to target/release/ferrodis.
Python 3 standard library only.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time

KEYS = 1_000_000
COLLECTIONS = 100_000
LIST_LEN = 10_000_000


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def strings(ttl):
    value = b"v" * 32
    for i in range(KEYS):
        key = b"key:%012d" % i  # 16 bytes
        yield resp(b"SET", key, value, b"EX", 100000) if ttl else resp(b"SET", key, value)


def hashes():
    for i in range(COLLECTIONS):
        args = [b"HSET", b"hash:%011d" % i]
        for f in range(10):
            args += [b"field:%d" % f, b"value:%010d" % (i * 10 + f)]
        yield resp(*args)


def zsets():
    for i in range(COLLECTIONS):
        args = [b"ZADD", b"zset:%011d" % i]
        for m in range(10):
            args += [b"%d" % (i * 10 + m), b"member:%010d" % m]
        yield resp(*args)


def big_list():
    for start in range(0, LIST_LEN, 1000):
        yield resp(b"RPUSH", b"list", *[b"%d" % n for n in range(start, start + 1000)])


DATASETS = {
    "strings": (lambda: strings(False), KEYS, "1M strings, 16-byte names, 32-byte values"),
    "strings-ttl": (lambda: strings(True), KEYS, "the same with a TTL on every key"),
    "hashes": (hashes, COLLECTIONS, "100k hashes of 10 fields"),
    "zsets": (zsets, COLLECTIONS, "100k sorted sets of 10 members"),
    "list": (big_list, LIST_LEN, "one list of 10M small integers (per element)"),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def info(port, field):
    out = subprocess.run(
        ["redis-cli", "-p", str(port), "info", "memory"], capture_output=True, text=True
    ).stdout
    for line in out.splitlines():
        if line.startswith(field + ":"):
            return int(line.split(":")[1])
    raise SystemExit(f"no {field} in INFO memory")


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def settled_rss(port, pid):
    """The steady-state RSS: MEMORY PURGE (both servers run jemalloc) once a second until four
    readings in a row agree within 64 KiB. jemalloc purges in steps a second or more apart and
    a loaded machine purges late, so one quiet moment is not enough."""
    readings = [rss(pid)]
    for _ in range(30):
        subprocess.run(["redis-cli", "-p", str(port), "memory", "purge"], capture_output=True)
        time.sleep(1)
        readings.append(rss(pid))
        last = readings[-4:]
        if len(readings) > 4 and max(last) - min(last) < 64 * 1024:
            break
    return readings[-1]


def measure(binary, name):
    make, count, _ = DATASETS[name]
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
            # The empty server's figures settle the same way as the loaded one's: threads and
            # allocator state created in the first second would otherwise count as data.
            rss0 = settled_rss(port, server.pid)
            used0 = info(port, "used_memory")
            data = os.path.join(d, "load.resp")
            with open(data, "wb") as f:
                for chunk in make():
                    f.write(chunk)
            with open(data, "rb") as f:
                subprocess.run(["redis-cli", "-p", str(port), "--pipe"], stdin=f, check=True, capture_output=True)
            used1, rss1 = info(port, "used_memory"), settled_rss(port, server.pid)
            return (used1 - used0) / count, (rss1 - rss0) / count
        finally:
            server.kill()
            server.wait()


def main():
    args = sys.argv[1:]
    ferrodis = args.pop(0) if args and os.path.sep in args[0] else "target/release/ferrodis"
    names = args or list(DATASETS)
    print(f"{'dataset':<12} {'ferrodis used/rss':>20} {'redis used/rss':>18} {'ratio used/rss':>16}")
    for name in names:
        fu, fr = measure(ferrodis, name)
        ru, rr = measure("redis-server", name)
        print(f"{name:<12} {fu:>9.1f} {fr:>9.1f}  {ru:>8.1f} {rr:>8.1f}  {fu / ru:>7.2f} {fr / rr:>7.2f}")
        print(f"  ({DATASETS[name][2]})")


if __name__ == "__main__":
    main()
