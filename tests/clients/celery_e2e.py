"""Celery end to end against a server on 127.0.0.1:<port>, every connection in RESP<protocol>:
the server is Celery's broker (kombu's Redis transport: LPUSH/BRPOP over priority lists, MULTI/EXEC
pipelines, the unacked sorted set and hash, PSUBSCRIBE/PUBLISH broadcasts) and its result backend
(SUBSCRIBE on result channels, SETEX, chord counters). Workers are separate `celery worker`
processes (tests/clients/celery_app.py). Prints OK and exits 0 when every check passed.

usage: celery_e2e.py <port> <protocol 2|3>"""

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

port, protocol = sys.argv[1], sys.argv[2]
os.environ.update(FERRODIS_E2E_PORT=port, FERRODIS_E2E_PROTOCOL=protocol, FERRODIS_E2E_ROLE="driver")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import redis  # noqa: E402
from celery import chain, chord, group  # noqa: E402
from celery.exceptions import TaskRevokedError  # noqa: E402

import celery_app  # noqa: E402
from celery_app import add, app, fail, flaky, hold_first_attempt, log_order, mul, now  # noqa: E402
from celery_app import record_run, retried, tsum  # noqa: E402

PROTOCOL = int(protocol)
RESULT_TIMEOUT = 60
admin = redis.Redis(host="127.0.0.1", port=int(port), protocol=PROTOCOL, client_name="driver-admin")
bookkeeping = celery_app.bookkeeping()
workers = []


def step(name):
    print(f"-- {name}", flush=True)


def wait_for(what, condition, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def start_worker(role, queue, *extra, visibility_timeout=None):
    """Starts a `celery worker` process (solo pool) and waits until it answers a ping."""
    env = dict(os.environ, FERRODIS_E2E_ROLE=role)
    if visibility_timeout is not None:
        env["FERRODIS_E2E_VISIBILITY_TIMEOUT"] = str(visibility_timeout)
    name = f"{role}@e2e"
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "celery_app", "worker", "-P", "solo", "-c", "1",
         "-Q", queue, "-n", name, "--without-mingle", "--without-gossip", "-l", "WARNING", *extra],
        cwd=HERE, env=env, stdout=subprocess.DEVNULL,  # the banner; logs go to stderr
    )
    workers.append(proc)

    def answers():
        assert proc.poll() is None, f"worker {name} exited with {proc.returncode}"
        return app.control.ping(destination=[name], timeout=0.5)

    replies = wait_for(f"worker {name} to answer ping", answers)
    assert replies == [{name: {"ok": "pong"}}], replies
    return proc, name


def kill(proc):
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def client_list():
    """CLIENT LIST as one dict of fields per connection."""
    lines = admin.execute_command("CLIENT", "LIST")
    if isinstance(lines, bytes):
        lines = lines.decode()
    if isinstance(lines, str):
        lines = lines.splitlines()
    # redis-py parses CLIENT LIST into dicts; keep them as str -> str.
    return [{str(k): str(v) for k, v in entry.items()} if isinstance(entry, dict)
            else dict(f.split("=", 1) for f in entry.split()) for entry in lines]


def check_protocols(required_names):
    """Every connection on the server uses the requested protocol, and the named ones exist."""
    clients = client_list()
    wrong = [c for c in clients if c["resp"] != str(PROTOCOL)]
    assert not wrong, f"connections not in RESP{PROTOCOL}: {wrong}"
    names = {c["name"] for c in clients}
    missing = set(required_names) - names
    assert not missing, f"no connection named {missing}; connections: {sorted(names)}"
    return len(clients)


try:
    admin.flushall()
    step("worker with events")
    main_proc, main_name = start_worker("main", "celery", "-E")

    step("simple results")
    assert add.delay(2, 3).get(timeout=RESULT_TIMEOUT) == 5
    results = [add.delay(i, i) for i in range(10)]
    assert [r.get(timeout=RESULT_TIMEOUT) for r in results] == [2 * i for i in range(10)]
    assert results[3].state == "SUCCESS" and results[3].result == 6

    step("chain")
    assert chain(add.s(2, 2), add.s(4), mul.s(8))().get(timeout=RESULT_TIMEOUT) == 64
    # A group inside a chain becomes a chord with the next task.
    assert (add.s(1, 1) | group(add.s(1), add.s(2)) | tsum.s())().get(timeout=RESULT_TIMEOUT) == 7

    step("group")
    assert group(add.s(i, 1) for i in range(6))().get(timeout=RESULT_TIMEOUT) == [1, 2, 3, 4, 5, 6]

    step("chord")
    assert chord(add.s(i, i) for i in range(5))(tsum.s()).get(timeout=RESULT_TIMEOUT) == 20
    assert chord([mul.s(2, 3), mul.s(4, 5)], tsum.s())().get(timeout=RESULT_TIMEOUT) == 26

    step("countdown and ETA")
    sent = time.time()
    ran = now.apply_async(countdown=1.5).get(timeout=RESULT_TIMEOUT)
    # (10 ms for the worker's wall-clock to monotonic conversion of the ETA)
    assert ran >= sent + 1.5 - 0.01, (sent, ran)
    eta = datetime.now(timezone.utc) + timedelta(seconds=1.5)
    ran = now.apply_async(eta=eta).get(timeout=RESULT_TIMEOUT)
    assert ran >= eta.timestamp() - 0.01, (eta.timestamp(), ran)

    step("autoretry_for")
    token = uuid.uuid4().hex
    assert flaky.delay(token, 2).get(timeout=RESULT_TIMEOUT) == 3
    assert bookkeeping.get(f"attempts:{token}") == b"3"
    token = uuid.uuid4().hex
    exhausted = flaky.delay(token, 10)
    try:
        exhausted.get(timeout=RESULT_TIMEOUT)
        raise AssertionError("flaky did not fail after max_retries")
    except ConnectionError as e:
        assert str(e) == f"attempt 4 of {token}", e
    assert exhausted.state == "FAILURE"
    assert bookkeeping.get(f"attempts:{token}") == b"4"  # the first run and 3 retries

    step("self.retry")
    token = uuid.uuid4().hex
    assert retried.delay(token, 2).get(timeout=RESULT_TIMEOUT) == [3, 2]
    assert bookkeeping.get(f"attempts:{token}") == b"3"

    step("exception propagation")
    for kind, expected_type in (("value", ValueError), ("e2e", celery_app.E2EError)):
        failed = fail.delay(kind, f"{kind} went wrong")
        try:
            failed.get(timeout=RESULT_TIMEOUT)
            raise AssertionError("fail did not fail")
        except Exception as e:  # noqa: BLE001 (checking the reconstructed type)
            assert type(e).__name__ == expected_type.__name__, type(e)
            assert str(e) == f"{kind} went wrong", e
        assert failed.state == "FAILURE"
        assert f"{kind} went wrong" in failed.traceback, failed.traceback
    # Not re-raised: the stored exception object itself.
    assert isinstance(failed.get(timeout=RESULT_TIMEOUT, propagate=False), Exception)

    step("revoke before it runs")
    token = uuid.uuid4().hex
    task_id = str(uuid.uuid4())
    replies = app.control.revoke(task_id, reply=True, destination=[main_name], timeout=10)
    assert replies and main_name in replies[0], replies
    revoked = record_run.apply_async((token,), task_id=task_id)
    wait_for("state REVOKED", lambda: revoked.state == "REVOKED")
    try:
        revoked.get(timeout=RESULT_TIMEOUT)
        raise AssertionError("a revoked task returned")
    except TaskRevokedError:
        pass
    # A later task on the same worker ran, so the revoked one had its turn and was skipped.
    assert add.delay(1, 1).get(timeout=RESULT_TIMEOUT) == 2
    assert bookkeeping.exists(f"ran:{token}") == 0

    step("remote control: inspect().ping() and broadcast")
    assert app.control.inspect(destination=[main_name], timeout=10).ping() == {main_name: {"ok": "pong"}}
    registered = app.control.inspect(destination=[main_name], timeout=10).registered()
    assert "celery_app.hold_first_attempt" in registered[main_name], registered
    replies = app.control.broadcast(
        "rate_limit", arguments={"task_name": "celery_app.add", "rate_limit": "1000/s"},
        destination=[main_name], reply=True, timeout=10)
    assert replies == [{main_name: {"ok": "new rate limit set successfully"}}], replies

    step("task events")
    events = []
    seen = threading.Condition()
    probe = uuid.uuid4().hex

    def on_event(event):
        with seen:
            events.append(event)
            seen.notify_all()

    with app.connection_for_read() as events_connection:
        receiver = app.events.Receiver(events_connection, handlers={"*": on_event})
        capture = threading.Thread(target=receiver.capture, kwargs={"limit": None}, daemon=True)
        capture.start()
        # The receiver subscribes asynchronously: publish probes until one comes back.
        with app.events.default_dispatcher() as dispatcher:
            def probe_seen():
                dispatcher.send("e2e-probe", token=probe)
                with seen:
                    return seen.wait_for(lambda: any(e.get("token") == probe for e in events), 0.2)
            wait_for("the events receiver to subscribe", probe_seen)
        watched = add.delay(20, 22)
        assert watched.get(timeout=RESULT_TIMEOUT) == 42
        wanted = {"task-sent", "task-received", "task-started", "task-succeeded"}

        def task_events():
            with seen:
                return {e["type"] for e in events if e.get("uuid") == watched.id} >= wanted
        wait_for(f"events {wanted}", task_events)
        received = next(e for e in events if e.get("uuid") == watched.id and e["type"] == "task-received")
        assert received["name"] == "celery_app.add" and received["hostname"] == main_name, received
        succeeded = next(e for e in events if e.get("uuid") == watched.id and e["type"] == "task-succeeded")
        assert succeeded["result"] == "42", succeeded
        receiver.should_stop = True
        capture.join(timeout=30)

    step("protocol of every connection")
    check_protocols({"driver-admin", "driver-broker", "driver-backend", "main-broker",
                     "main-backend", "main-tasks"})

    step("priority queues")
    # kombu's Redis transport keeps one list per priority step (0, 3, 6, 9; 0 is served
    # first); queued before the worker exists, the tasks must run by priority, FIFO within one.
    plan = [("low", 9), ("mid", 5), ("high", 0)]
    queued = [log_order.apply_async((f"{tag}-{i}",), queue="prio", priority=priority)
              for tag, priority in plan for i in range(3)]
    assert admin.llen("prio") == 3, "priority 0 goes to the plain list"
    prio_proc, _ = start_worker("prio", "prio")
    assert [r.get(timeout=RESULT_TIMEOUT) for r in queued] == [f"{t}-{i}" for t, _ in plan for i in range(3)]
    order = [tag.decode() for tag in bookkeeping.lrange("order", 0, -1)]
    assert order == [f"{t}-{i}" for t in ("high", "mid", "low") for i in range(3)], order
    kill(prio_proc)

    step("acks_late redelivery after kill -9")
    token = uuid.uuid4().hex
    first_proc, _ = start_worker("fragile1", "fragile")
    held = hold_first_attempt.apply_async((token,), queue="fragile")
    wait_for("the first attempt to start", lambda: bookkeeping.get(f"attempts:{token}") == b"1")
    assert admin.hlen("unacked") == 1, "the running task's message is unacknowledged"
    kill(first_proc)
    # The second worker's sweep restores the message once visibility_timeout has passed.
    start_worker("fragile2", "fragile", visibility_timeout=2)
    assert held.get(timeout=RESULT_TIMEOUT) == 2
    assert bookkeeping.get(f"attempts:{token}") == b"2"
    wait_for("the unacked hash to empty", lambda: admin.hlen("unacked") == 0)
    check_protocols({"driver-broker", "fragile2-broker", "fragile2-backend", "fragile2-tasks"})
finally:
    for proc in workers:
        if proc.poll() is None:
            kill(proc)

print("OK")
