#!/usr/bin/env python3
"""Cache hit rate under maxmemory, ferrodis against redis-server, same workload and limit.

    python3 benches/eviction_hitrate.py [path/to/ferrodis] [policy]

A cache workload: keys drawn from a Zipf-like distribution (s = 1) over 200,000 keys of 1 KiB;
each access is a GET, and a miss is followed by a SET (read-through cache). The limit holds
about a tenth of the keys. The hit rate of the measured phase (after a warm-up) is printed for
both servers. Python 3 standard library only.
"""

import bisect
import random
import socket
import subprocess
import sys
import tempfile
import time

KEYS = 200_000
VALUE = b"x" * 1024
MAXMEMORY = 32 << 20
WARMUP = 200_000
MEASURED = 400_000
BATCH = 200


def zipf_sampler(n, s, rng):
    cumulative = []
    total = 0.0
    for rank in range(1, n + 1):
        total += 1.0 / rank**s
        cumulative.append(total)
    # Ranks map to shuffled key ids, so popular keys are spread over the keyspace.
    ids = list(range(n))
    rng.shuffle(ids)
    return lambda: ids[bisect.bisect_left(cumulative, rng.random() * total)]


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            self.buf += self.sock.recv(1 << 16)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        """Reads one reply; True for a non-nil bulk string (a hit)."""
        head = self.line()
        if head[:1] == b"$":
            n = int(head[1:])
            if n < 0:
                return False
            while len(self.buf) < n + 2:
                self.buf += self.sock.recv(1 << 16)
            self.buf = self.buf[n + 2 :]
            return True
        if head[:1] == b"-":
            raise SystemExit(head.decode())
        return False

    def run(self, commands):
        self.sock.sendall(b"".join(commands))
        return [self.reply() for _ in commands]


def hit_rate(binary, policy, seed):
    rng = random.Random(seed)
    draw = zipf_sampler(KEYS, 1.0, rng)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as d:
        server = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--maxmemory", str(MAXMEMORY), "--maxmemory-policy", policy],
            cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).returncode:
                time.sleep(0.05)
            conn = Conn(port)
            hits = total = 0
            for done in range(0, WARMUP + MEASURED, BATCH):
                keys = [b"key:%d" % draw() for _ in range(BATCH)]
                found = conn.run([resp(b"GET", k) for k in keys])
                misses = [k for k, hit in zip(keys, found) if not hit]
                if misses:
                    conn.run([resp(b"SET", k, VALUE) for k in misses])
                if done >= WARMUP:
                    hits += sum(found)
                    total += len(found)
            return hits / total
        finally:
            server.kill()
            server.wait()


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/ferrodis"
    policy = sys.argv[2] if len(sys.argv) > 2 else "allkeys-lru"
    for seed in (1, 2):
        f = hit_rate(binary, policy, seed)
        r = hit_rate("redis-server", policy, seed)
        print(f"{policy} seed {seed}: ferrodis {f:.4f}  redis-server {r:.4f}  ratio {f / r:.3f}")


if __name__ == "__main__":
    main()
