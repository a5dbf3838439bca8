"""Celery end to end against a server on 127.0.0.1:<port>: ferrodis as Celery's broker
(kombu's Redis transport: LPUSH/BRPOP over several keys, MULTI/EXEC pipelines, the unacked
sorted set and hash, PSUBSCRIBE/PUBLISH broadcasts) and as its result backend (SUBSCRIBE on
result channels, SETEX, chords' counters). Prints OK and exits 0 when every check passed."""

import sys

from celery import Celery, chord, group
from celery.contrib.testing import tasks as _testing_tasks  # noqa: F401 (registers celery.ping)
from celery.contrib.testing.worker import start_worker

port = int(sys.argv[1])
url = f"redis://127.0.0.1:{port}"
app = Celery("e2e", broker=f"{url}/0", backend=f"{url}/1")
app.conf.update(
    task_acks_late=True,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
    result_expires=600,
)


@app.task
def add(x, y):
    return x + y


@app.task
def total(values):
    return sum(values)


@app.task
def boom():
    raise ValueError("boom")


with start_worker(app, pool="solo", concurrency=1, perform_ping_check=True, loglevel="WARNING"):
    assert add.delay(2, 3).get(timeout=30) == 5
    results = [add.delay(i, i) for i in range(25)]
    assert [r.get(timeout=60) for r in results] == [2 * i for i in range(25)]
    failed = boom.delay()
    try:
        failed.get(timeout=30)
        raise AssertionError("boom did not fail")
    except ValueError as e:
        assert str(e) == "boom", e
    assert failed.state == "FAILURE"
    # countdown: the message waits in the unacked index until its time.
    assert add.apply_async((20, 22), countdown=1).get(timeout=30) == 42
    assert group(add.s(i, 1) for i in range(5))().get(timeout=60) == [1, 2, 3, 4, 5]
    assert chord(add.s(i, i) for i in range(4))(total.s()).get(timeout=60) == 12
    # Remote control: a broadcast over PUBLISH, replies through the reply queue.
    replies = app.control.ping(timeout=5)
    assert replies and all("ok" in list(r.values())[0] for r in replies), replies
    stats = app.control.inspect(timeout=5).stats()
    assert stats, stats

print("OK")
