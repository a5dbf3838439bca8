"""The Celery app shared by the driver (celery_e2e.py) and the `celery worker` processes it
starts. Configured from the environment so every process talks to the same server with the
same protocol:

  FERRODIS_E2E_PORT      server port on 127.0.0.1
  FERRODIS_E2E_PROTOCOL  2 or 3: the RESP version of every redis-py connection (broker,
                         result backend, the tasks' own client)
  FERRODIS_E2E_ROLE      this process's role; its connections are named <role>-broker,
                         <role>-backend and <role>-tasks so the driver can find them in
                         CLIENT LIST
  FERRODIS_E2E_VISIBILITY_TIMEOUT  broker visibility_timeout in seconds (kombu default
                         when unset)

Database 0 is the broker, 1 the result backend, 2 the tasks' bookkeeping (attempt counters,
execution order) that the driver reads to check what ran."""

import os
import time

import redis
from celery import Celery
from kombu.transport import redis as kombu_redis

PORT = int(os.environ["FERRODIS_E2E_PORT"])
PROTOCOL = int(os.environ["FERRODIS_E2E_PROTOCOL"])
ROLE = os.environ.get("FERRODIS_E2E_ROLE", "driver")
VISIBILITY_TIMEOUT = os.environ.get("FERRODIS_E2E_VISIBILITY_TIMEOUT")
URL = f"redis://127.0.0.1:{PORT}"


class ProtocolChannel(kombu_redis.Channel):
    """kombu's Redis channel with an explicit RESP version: kombu has no transport option for
    redis-py's `protocol` argument (without it redis-py 8 picks RESP3)."""

    def _connparams(self, asynchronous=False):
        return {**super()._connparams(asynchronous), "protocol": PROTOCOL}


class ProtocolTransport(kombu_redis.Transport):
    Channel = ProtocolChannel


transport_options = {"client_name": f"{ROLE}-broker"}
if VISIBILITY_TIMEOUT:
    transport_options.update(
        visibility_timeout=float(VISIBILITY_TIMEOUT),
        # Sweep for expired unacked messages every second instead of every 10 * 10 s.
        unacked_restore_interval=1,
        unacked_restore_throttle=1,
    )

app = Celery("celery_app", broker=f"{URL}/0", backend=f"{URL}/1?protocol={PROTOCOL}")
app.conf.update(
    broker_transport=ProtocolTransport,
    broker_transport_options=transport_options,
    broker_connection_retry_on_startup=True,
    redis_client_name=f"{ROLE}-backend",
    result_expires=600,
    worker_prefetch_multiplier=1,
    worker_hijack_root_logger=False,
    task_send_sent_event=True,
)

_bookkeeping = None


def bookkeeping():
    """The tasks' own connection (db 2)."""
    global _bookkeeping
    if _bookkeeping is None:
        _bookkeeping = redis.Redis(
            host="127.0.0.1", port=PORT, db=2, protocol=PROTOCOL, client_name=f"{ROLE}-tasks"
        )
    return _bookkeeping


class E2EError(Exception):
    """A task's own exception type, to check that type and message travel back."""


@app.task
def add(x, y):
    return x + y


@app.task
def mul(x, y):
    return x * y


@app.task
def tsum(values):
    return sum(values)


@app.task
def now():
    """When the task ran (for countdown and ETA)."""
    return time.time()


@app.task
def fail(kind, message):
    raise {"value": ValueError, "e2e": E2EError}[kind](message)


@app.task
def record_run(token):
    """Marks that it ran (the revoke scenario checks that it never did)."""
    bookkeeping().set(f"ran:{token}", 1)
    return token


@app.task(autoretry_for=(ConnectionError,), retry_kwargs={"max_retries": 3, "countdown": 0})
def flaky(token, failures):
    """Fails `failures` times, then returns the attempt number; retried by autoretry_for."""
    attempt = bookkeeping().incr(f"attempts:{token}")
    if attempt <= failures:
        raise ConnectionError(f"attempt {attempt} of {token}")
    return attempt


@app.task(bind=True, max_retries=5)
def retried(self, token, failures):
    """Retries itself with self.retry until `failures` retries were made."""
    attempt = bookkeeping().incr(f"attempts:{token}")
    if self.request.retries < failures:
        raise self.retry(countdown=0)
    return [attempt, self.request.retries]


@app.task
def log_order(tag):
    bookkeeping().rpush("order", tag)
    return tag


@app.task(acks_late=True)
def hold_first_attempt(token):
    """The first attempt announces itself and then holds its message unacknowledged (the
    driver SIGKILLs its worker meanwhile); a redelivered attempt returns its number."""
    attempt = bookkeeping().incr(f"attempts:{token}")
    if attempt == 1:
        time.sleep(300)
    return attempt
