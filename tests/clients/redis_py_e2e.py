"""redis-py's own primitives against a server on 127.0.0.1:<port>, every connection in
RESP<protocol>: Lock (all Lua), MULTI/EXEC pipelines with WATCH, pub/sub, registered scripts
with the NOSCRIPT fallback. Prints OK and exits 0 when every check passed.

usage: redis_py_e2e.py <port> <protocol 2|3>"""

import sys
import threading
import time

import redis
from redis.exceptions import LockError, LockNotOwnedError, NoScriptError, ResponseError, WatchError

port, PROTOCOL = int(sys.argv[1]), int(sys.argv[2])


def connect(name):
    return redis.Redis(host="127.0.0.1", port=port, protocol=PROTOCOL, client_name=name)


def step(name):
    print(f"-- {name}", flush=True)


def wait_for(what, condition, timeout=30):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


one, two, admin = connect("one"), connect("two"), connect("admin")
admin.flushall()

step("protocol of each connection")
for client in (one, two, admin):
    info = client.client_info()
    assert str(info["resp"]) == str(PROTOCOL), info

step("lock: acquire, contention, blocking")
held = one.lock("lock:res", timeout=10)
assert held.acquire(blocking=False)
assert held.owned() and held.locked()
assert one.get("lock:res") == held.local.token
assert 5000 < one.pttl("lock:res") <= 10000
rival = two.lock("lock:res", timeout=10, thread_local=False)  # acquired in another thread
assert not rival.acquire(blocking=False)
assert not rival.acquire(blocking=True, blocking_timeout=0.3), "acquired a held lock"
# A blocked acquirer gets the lock once the holder releases it, not before.
released_at = []
acquired_at = []
waiter = threading.Thread(
    target=lambda: rival.acquire(blocking=True, blocking_timeout=30) and acquired_at.append(time.monotonic()))
waiter.start()
released_at.append(time.monotonic())
held.release()
waiter.join(timeout=40)
assert acquired_at and acquired_at[0] >= released_at[0], (acquired_at, released_at)
assert rival.owned() and not held.owned()
rival.release()
assert one.exists("lock:res") == 0

step("lock: extend, reacquire, context manager")
# TTL bounds leave seconds of slack for a loaded machine.
short = one.lock("lock:ext", timeout=20)
assert short.acquire()
assert short.extend(10)  # adds to the remaining TTL
assert 20000 < one.pttl("lock:ext") <= 30000
assert short.extend(5, replace_ttl=True)
assert 0 < one.pttl("lock:ext") <= 5000
assert short.reacquire()  # back to the lock's timeout
assert 5000 < one.pttl("lock:ext") <= 20000
short.release()
with one.lock("lock:ctx", timeout=5) as ctx:
    assert ctx.owned() and two.get("lock:ctx") == ctx.local.token
assert one.exists("lock:ctx") == 0

step("lock: releasing or extending a lock not owned")
stolen = one.lock("lock:stolen", timeout=10)
assert stolen.acquire()
two.set("lock:stolen", "someone-else")
try:
    stolen.extend(5)
    raise AssertionError("extended a lock owned by someone else")
except LockNotOwnedError:
    pass
try:
    stolen.release()
    raise AssertionError("released a lock owned by someone else")
except LockNotOwnedError:
    pass
assert two.get("lock:stolen") == b"someone-else"
expired = one.lock("lock:expired", timeout=0.2)
assert expired.acquire()
wait_for("the lock to expire", lambda: one.exists("lock:expired") == 0)
try:
    expired.release()
    raise AssertionError("released an expired lock")
except LockNotOwnedError:
    pass
unheld = one.lock("lock:never")
try:
    unheld.release()
    raise AssertionError("released a lock never acquired")
except LockError:
    pass

step("pipeline: MULTI/EXEC")
with one.pipeline(transaction=True) as pipe:
    assert pipe.set("p:a", 1).incr("p:a").get("p:a").execute() == [True, 2, b"2"]
with one.pipeline(transaction=True) as pipe:
    replies = pipe.set("p:s", "text").incr("p:s").set("p:t", "y").execute(raise_on_error=False)
assert replies[0] is True and replies[2] is True, replies
assert isinstance(replies[1], ResponseError) and "not an integer" in str(replies[1]), replies
assert one.get("p:t") == b"y", "EXEC ran the commands after the failing one"
with one.pipeline(transaction=True) as pipe:
    pipe.set("p:never", 1).execute_command("NOSUCHCOMMAND", "x")
    try:
        pipe.execute()
        raise AssertionError("a transaction with an unknown command executed")
    except ResponseError as e:
        assert "unknown command" in str(e), e
assert one.exists("p:never") == 0, "EXECABORT must discard the whole transaction"

step("pipeline: WATCH")
one.set("w:counter", 10)
with one.pipeline(transaction=True) as pipe:
    pipe.watch("w:counter")
    current = int(pipe.get("w:counter"))
    two.incr("w:counter")  # a concurrent change between WATCH and EXEC
    pipe.multi()
    pipe.set("w:counter", current + 1)
    try:
        pipe.execute()
        raise AssertionError("EXEC ran although a watched key changed")
    except WatchError:
        pass
assert one.get("w:counter") == b"11"
attempts = []


def bump(pipe):
    value = int(pipe.get("w:counter"))
    attempts.append(value)
    if len(attempts) == 1:
        two.incr("w:counter")
    pipe.multi()
    pipe.set("w:counter", value * 2)


assert one.transaction(bump, "w:counter") == [True]
assert attempts == [11, 12], attempts
assert one.get("w:counter") == b"24"

step("pubsub: subscribe, psubscribe, get_message")
sub = two.pubsub()
sub.subscribe("news")
assert sub.get_message(timeout=10) == {"type": "subscribe", "pattern": None, "channel": b"news", "data": 1}
sub.psubscribe("ev.*")
assert sub.get_message(timeout=10) == {"type": "psubscribe", "pattern": None, "channel": b"ev.*", "data": 2}
assert one.pubsub_numsub("news") == [(b"news", 1)]
assert one.pubsub_numpat() == 1
assert one.publish("news", "hello") == 1
assert one.publish("ev.login", "bob") == 1
assert sub.get_message(timeout=10) == {"type": "message", "pattern": None, "channel": b"news", "data": b"hello"}
assert sub.get_message(timeout=10) == {
    "type": "pmessage", "pattern": b"ev.*", "channel": b"ev.login", "data": b"bob"}
assert sub.get_message(timeout=0.1) is None
sub.unsubscribe("news")
assert sub.get_message(timeout=10) == {"type": "unsubscribe", "pattern": None, "channel": b"news", "data": 1}
sub.punsubscribe()
assert sub.get_message(timeout=10) == {"type": "punsubscribe", "pattern": None, "channel": b"ev.*", "data": 0}
assert one.publish("news", "nobody") == 0
sub.close()

step("pubsub: run_in_thread and listen")
received = []
handler_sub = connect("handler").pubsub()
handler_sub.subscribe(jobs=lambda message: received.append(message["data"]))
worker = handler_sub.run_in_thread(sleep_time=0.05, daemon=True)
wait_for("the handler to subscribe", lambda: one.pubsub_numsub("jobs") == [(b"jobs", 1)])
subscriber = next(c for c in admin.client_list() if c["name"] == "handler")
assert str(subscriber["resp"]) == str(PROTOCOL) and subscriber["sub"] == "1", subscriber
for i in range(5):
    assert one.publish("jobs", f"job-{i}") == 1
wait_for("five messages", lambda: len(received) == 5)
assert received == [f"job-{i}".encode() for i in range(5)], received
worker.stop()
worker.join(timeout=10)
listener = connect("listener").pubsub(ignore_subscribe_messages=True)
listener.psubscribe("feed.*")
wait_for("the listener to subscribe", lambda: one.pubsub_numpat() == 1)
one.publish("feed.a", "first")
one.publish("feed.b", "second")
stream = listener.listen()
assert [next(stream)["data"], next(stream)["data"]] == [b"first", b"second"]
listener.close()

step("scripts: register_script, EVALSHA, NOSCRIPT fallback")
incrby = one.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
assert incrby(keys=["s:n"], args=[5]) == 5
assert one.script_exists(incrby.sha) == [True]
assert one.script_flush() is True
assert one.script_exists(incrby.sha) == [False]
try:
    one.evalsha(incrby.sha, 1, "s:n", 1)
    raise AssertionError("EVALSHA of a flushed script ran")
except NoScriptError:
    pass
assert incrby(keys=["s:n"], args=[2]) == 7  # NOSCRIPT, SCRIPT LOAD, EVALSHA again
assert one.script_exists(incrby.sha) == [True]
one.script_flush()
with one.pipeline(transaction=True) as pipe:
    incrby(keys=["s:n"], args=[3], client=pipe)  # a pipeline loads missing scripts first
    pipe.get("s:n")
    assert pipe.execute() == [10, b"10"]
shapes = one.register_script("return {1, 'two', {3, redis.status_reply('FOUR')}, 5.9}")
assert shapes() == [1, b"two", [3, b"FOUR"], 5]
failing = one.register_script("return redis.error_reply('MYERR custom failure')")
try:
    failing()
    raise AssertionError("error_reply did not raise")
except ResponseError as e:
    assert str(e) == "MYERR custom failure", e
one.hset("s:h", mapping={"f": "v"})
resp3_reply = one.register_script("redis.setresp(3); return redis.call('hgetall', KEYS[1])")
# A RESP3 map reaches a RESP3 client as a map and a RESP2 client as a flat array.
expected = {b"f": b"v"} if PROTOCOL == 3 else [b"f", b"v"]
assert resp3_reply(keys=["s:h"]) == expected, resp3_reply(keys=["s:h"])

step("protocol of every connection")
clients = admin.client_list()
assert {c["name"] for c in clients} >= {"one", "admin"}, clients
assert all(str(c["resp"]) == str(PROTOCOL) for c in clients), clients

print("OK")
