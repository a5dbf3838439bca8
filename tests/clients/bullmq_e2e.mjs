// BullMQ end to end against a server on 127.0.0.1:<port>.
//
//   node bullmq_e2e.mjs <port> <resp3|resp2> <label> [scenario...]
//
// resp3 uses ioredis's default connection options (ioredis 6 sends HELLO 3 by default and
// quietly falls back to RESP2 when HELLO fails); resp2 sets `protocol: 2`. After every
// scenario, while its connections are still open, CLIENT LIST must show the expected resp=
// on every connection, so a failed HELLO cannot turn the RESP3 run into a second RESP2 run.
// Each scenario uses its own queue; all waits are for conditions, with deadlines. Prints one
// line per scenario and OK at the end when every check passed; any failure exits non-zero
// with the label (server and protocol) and the scenario in the message.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { FlowProducer, Queue, QueueEvents, Worker } from "bullmq";
import IORedis from "ioredis";

const [portArg, protocolArg, labelArg, ...wanted] = process.argv.slice(2);
const port = Number(portArg);
const protocol = { resp3: 3, resp2: 2 }[protocolArg];
if (!port || !protocol) {
  console.error("usage: bullmq_e2e.mjs <port> <resp3|resp2> <label> [scenario...]");
  process.exit(2);
}
const label = labelArg ?? `port ${port} ${protocolArg}`;
const connection = {
  host: "127.0.0.1",
  port,
  maxRetriesPerRequest: null,
  ...(protocol === 2 ? { protocol: 2 } : {}),
};

class CheckFailed extends Error {}
const check = (ok, msg) => {
  if (!ok) throw new CheckFailed(msg);
};
const eq = (actual, expected, what) => {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  check(a === e, `${what}: expected ${e}, got ${a}`);
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `cond` (sync or async) until it is truthy; fails after `ms`. */
async function waitFor(cond, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await cond();
    if (value) return value;
    if (Date.now() > deadline) throw new CheckFailed(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(15);
  }
}

/** Resolves with `promise` or fails after `ms`. */
async function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new CheckFailed(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const admin = new IORedis(connection);
// Queue names are unique per run, so runs against one long-lived server do not mix.
const runId = Date.now().toString(36);

/** Every connection open now (BullMQ's queues, workers, blocking and event readers, this
 * admin connection) must speak the protocol under test. */
async function checkProtocolOfAllClients(scenario) {
  const list = String(await admin.call("CLIENT", "LIST"));
  // A MONITOR client (flag O) watching the run is not part of it.
  const lines = list.split(/\r?\n/).filter((l) => l.includes("resp=") && !/ flags=\w*O/.test(l));
  check(lines.length >= 2, `CLIENT LIST shows ${lines.length} clients:\n${list}`);
  const wrong = lines.filter((l) => !l.includes(` resp=${protocol}`));
  check(wrong.length === 0, `${scenario}: clients not on RESP${protocol}:\n${wrong.join("\n")}`);
  return lines.length;
}

/** Resources of one scenario: queue (and what else it opens), closed after its checks. */
function scenarioContext(name) {
  const opened = [];
  const track = (thing) => {
    opened.push(thing);
    return thing;
  };
  const queueName = `${name}-${runId}`;
  return {
    queueName,
    track,
    queue: track(new Queue(queueName, { connection })),
    worker: (processor, opts = {}) =>
      track(new Worker(queueName, processor, { connection, ...opts })),
    events: async () => {
      const events = track(new QueueEvents(queueName, { connection }));
      await events.waitUntilReady();
      return events;
    },
    close: async () => {
      for (const thing of opened.reverse()) await thing.close();
    },
  };
}

const finished = (job, events, ms = 15000) =>
  within(job.waitUntilFinished(events, ms), ms + 1000, `job ${job.id} (${job.name}) to finish`);

/** A worker that only starts taking jobs when `run()` is called, so the order of what was
 * queued before is observable. */
async function stoppedWorker(ctx, processor, opts = {}) {
  const worker = ctx.worker(processor, { autorun: false, ...opts });
  await worker.waitUntilReady();
  return worker;
}

const scenarios = {
  async basic(ctx) {
    const events = await ctx.events();
    ctx.worker(async (job) => ({ sum: job.data.a + job.data.b, name: job.name, echo: job.data.text }), {
      concurrency: 4,
    });
    const first = await ctx.queue.add("add", { a: 2, b: 3 });
    eq(await finished(first, events), { sum: 5, name: "add" }, "return value");
    const stored = await ctx.queue.getJob(first.id);
    eq(stored.returnvalue, { sum: 5, name: "add" }, "stored return value");
    eq(await stored.getState(), "completed", "state after completion");
    check(stored.finishedOn >= stored.processedOn && stored.processedOn >= stored.timestamp, "timestamps in order");

    const many = await ctx.queue.addBulk(
      Array.from({ length: 20 }, (_, i) => ({ name: "bulk", data: { a: i, b: 10 * i } })),
    );
    const results = await Promise.all(many.map((job) => finished(job, events)));
    eq(
      results.map((r) => r.sum),
      Array.from({ length: 20 }, (_, i) => 11 * i),
      "addBulk results",
    );

    // Unicode in names and data, and a 100 KB payload (all planes, escapes and NUL).
    const unicodeName = "ünïcødé-名前-🚀";
    const alphabet = "aé名🚀\u0000\n\"\\\u2028ß€😀Ω";
    let text = "";
    for (let i = 0; text.length < 100 * 1024; i++) text += alphabet[i % alphabet.length] + i;
    const big = await ctx.queue.add(unicodeName, { a: 1, b: 1, text });
    const bigResult = await finished(big, events);
    check(bigResult.echo === text, `100 KB payload returned changed (length ${bigResult.echo?.length} vs ${text.length})`);
    eq(bigResult.name, unicodeName, "unicode job name seen by the worker");
    const bigStored = await ctx.queue.getJob(big.id);
    check(bigStored.data.text === text, "100 KB payload stored changed");
    check(bigStored.returnvalue.echo === text, "100 KB return value stored changed");
    eq(bigStored.name, unicodeName, "unicode job name stored");
  },

  async delayed(ctx) {
    const events = await ctx.events();
    const startedAt = new Map();
    ctx.worker(async (job) => {
      startedAt.set(job.id, Date.now());
      return job.data.n;
    });
    const addedAt = Date.now();
    const jobs = await Promise.all([
      ctx.queue.add("late", { n: 2 }, { delay: 900 }),
      ctx.queue.add("soon", { n: 1 }, { delay: 300 }),
    ]);
    eq(await jobs[0].getState(), "delayed", "state of a delayed job");
    eq(await Promise.all(jobs.map((job) => finished(job, events))), [2, 1], "delayed results");
    const late = startedAt.get(jobs[0].id) - addedAt;
    const soon = startedAt.get(jobs[1].id) - addedAt;
    check(soon >= 300 && late >= 900, `delayed jobs ran early: ${soon} ms (delay 300), ${late} ms (delay 900)`);
    check(late < 900 + 5000, `900 ms delayed job ran after ${late} ms`);
    check(late > soon, `the later job ran first (${late} vs ${soon})`);
  },

  async retries(ctx) {
    const events = await ctx.events();
    const attemptTimes = [];
    ctx.worker(async (job) => {
      attemptTimes.push(Date.now());
      if (attemptTimes.length < 4) throw new Error(`attempt ${attemptTimes.length} failed`);
      return "finally";
    });
    const job = await ctx.queue.add("flaky", {}, { attempts: 5, backoff: { type: "exponential", delay: 100 } });
    eq(await finished(job, events), "finally", "result after retries");
    eq(attemptTimes.length, 4, "attempts run");
    const gaps = attemptTimes.slice(1).map((t, i) => t - attemptTimes[i]);
    gaps.forEach((gap, i) => {
      const backoff = 100 * 2 ** i;
      check(gap >= backoff - 5 && gap < backoff + 3000, `retry ${i + 1}: gap ${gap} ms for backoff ${backoff} ms (all: ${gaps})`);
    });
    const stored = await ctx.queue.getJob(job.id);
    eq(stored.attemptsMade, 4, "attemptsMade after success on the 4th attempt");
    eq(stored.stacktrace.length, 3, "stack traces kept for the failed attempts");
  },

  async failures(ctx) {
    const events = await ctx.events();
    const failedEvents = [];
    events.on("failed", ({ jobId, failedReason }) => failedEvents.push([jobId, failedReason]));
    ctx.worker(async (job) => {
      throw new Error(`boom ${job.attemptsMade + 1} of ${job.name}`);
    });
    const once1 = await ctx.queue.add("single", {});
    const twice = await ctx.queue.add("double", {}, { attempts: 2, backoff: { type: "fixed", delay: 50 } });
    for (const [job, reason] of [
      [once1, "boom 1 of single"],
      [twice, "boom 2 of double"],
    ]) {
      let error;
      await finished(job, events).catch((e) => (error = e));
      eq(error?.message, reason, `waitUntilFinished rejection of ${job.name}`);
    }
    const a = await ctx.queue.getJob(once1.id);
    const b = await ctx.queue.getJob(twice.id);
    eq([await a.getState(), a.failedReason, a.attemptsMade], ["failed", "boom 1 of single", 1], "single failure");
    eq([await b.getState(), b.failedReason, b.attemptsMade], ["failed", "boom 2 of double", 2], "failure after retry");
    check(b.stacktrace.length === 2 && b.stacktrace[1].includes("boom 2"), `stack traces ${JSON.stringify(b.stacktrace)}`);
    await waitFor(() => failedEvents.length === 2, 5000, "two failed events");
    eq(failedEvents, [
      [once1.id, "boom 1 of single"],
      [twice.id, "boom 2 of double"],
    ], "failed events");
    eq((await ctx.queue.getFailed()).map((j) => j.id).sort(), [once1.id, twice.id].sort(), "getFailed");
  },

  async priorities(ctx) {
    const order = [];
    const worker = await stoppedWorker(ctx, async (job) => order.push(job.name), { concurrency: 1 });
    await ctx.queue.add("p10", {}, { priority: 10 });
    await ctx.queue.add("p1-first", {}, { priority: 1 });
    await ctx.queue.add("none", {});
    await ctx.queue.add("p5", {}, { priority: 5 });
    await ctx.queue.add("p1-second", {}, { priority: 1 });
    eq(await ctx.queue.getJobCounts("prioritized", "wait"), { prioritized: 4, wait: 1 }, "counts before processing");
    worker.run();
    await waitFor(() => order.length === 5, 10000, "5 prioritized jobs");
    eq(order, ["none", "p1-first", "p1-second", "p5", "p10"], "processing order");
  },

  async lifo(ctx) {
    const order = [];
    const worker = await stoppedWorker(ctx, async (job) => order.push(job.name), { concurrency: 1 });
    await ctx.queue.add("fifo-1", {});
    await ctx.queue.add("fifo-2", {});
    await ctx.queue.add("lifo-1", {}, { lifo: true });
    await ctx.queue.add("lifo-2", {}, { lifo: true });
    worker.run();
    await waitFor(() => order.length === 4, 10000, "4 jobs");
    eq(order, ["lifo-2", "lifo-1", "fifo-1", "fifo-2"], "processing order");
  },

  async progress(ctx) {
    const events = await ctx.events();
    const seen = [];
    events.on("progress", ({ jobId, data }) => seen.push([jobId, data]));
    ctx.worker(async (job) => {
      await job.updateProgress(10);
      await job.updateProgress(55);
      await job.updateProgress({ stage: "done", pct: 100, note: "fertig ✓" });
      return "ok";
    });
    const job = await ctx.queue.add("steps", {});
    eq(await finished(job, events), "ok", "result");
    await waitFor(() => seen.length === 3, 5000, "3 progress events");
    eq(seen, [
      [job.id, 10],
      [job.id, 55],
      [job.id, { stage: "done", pct: 100, note: "fertig ✓" }],
    ], "progress events in order");
    eq((await ctx.queue.getJob(job.id)).progress, { stage: "done", pct: 100, note: "fertig ✓" }, "stored progress");
  },

  async removal(ctx) {
    const events = await ctx.events();
    ctx.worker(
      async (job) => {
        if (job.data.fail) throw new Error("no");
        return job.data.i;
      },
      { concurrency: 1 },
    );
    const settle = (job) => finished(job, events).catch(() => {});
    const removedDone = await ctx.queue.add("gone", { i: 0 }, { removeOnComplete: true });
    const removedFailed = await ctx.queue.add("gone", { fail: true }, { removeOnFail: true });
    await settle(removedDone);
    await settle(removedFailed);
    eq(await ctx.queue.getJob(removedDone.id), undefined, "removeOnComplete: true");
    eq(await ctx.queue.getJob(removedFailed.id), undefined, "removeOnFail: true");

    const kept = [];
    for (let i = 1; i <= 5; i++) kept.push(await ctx.queue.add("keep2", { i }, { removeOnComplete: 2 }));
    for (const job of kept) await settle(job);
    const failing = [];
    for (let i = 1; i <= 3; i++) failing.push(await ctx.queue.add("keep1", { fail: true }, { removeOnFail: 1 }));
    for (const job of failing) await settle(job);
    // removeOnFail keeps the newest by the failed set's score (the finish time in ms); jobs
    // that fail in the same millisecond are ordered by id as text, so "9" outranks "10": the
    // kept job is one of the last two, whichever the set ranks last. Wait for the trim.
    const keptFailed = await waitFor(
      async () => {
        const failed = await ctx.queue.getFailed();
        return failed.length === 1 && failed[0];
      },
      10000,
      "one failed job kept",
    );
    if (![failing[1].id, failing[2].id].includes(keptFailed.id)) {
      throw new CheckFailed(`newest failed kept: got ${keptFailed.id}`);
    }
    eq(await ctx.queue.getJobCounts("completed", "failed"), { completed: 2, failed: 1 }, "counts kept");
    eq((await ctx.queue.getCompleted()).map((j) => j.id).sort(), [kept[3].id, kept[4].id].sort(), "newest 2 completed kept");
    eq(await ctx.queue.getJob(kept[0].id), undefined, "old completed job removed");
  },

  async ratelimit(ctx) {
    const max = 3;
    const duration = 500;
    const starts = [];
    const worker = await stoppedWorker(ctx, async () => starts.push(Date.now()), {
      concurrency: 10,
      limiter: { max, duration },
    });
    await ctx.queue.addBulk(Array.from({ length: 9 }, (_, i) => ({ name: "limited", data: { i } })));
    worker.run();
    await waitFor(() => starts.length === 9, 15000, "9 rate limited jobs");
    const t = starts.map((s) => s - starts[0]);
    // Each window lets `max` jobs through: job 3 waits for the second window, job 6 for the
    // third. Unlimited, all 9 would start within a few ms; the slack covers the first job's
    // start being seen late (its window opens on the server when it is taken).
    const slack = duration / 4;
    check(t[max] >= duration - slack, `job ${max} started ${t[max]} ms after the first (window ${duration} ms): ${t}`);
    check(t[2 * max] >= 2 * duration - slack, `job ${2 * max} started ${t[2 * max]} ms after the first: ${t}`);
    const rate = (9 - max) / (t[8] / 1000);
    check(rate <= (max / duration) * 1000 * 1.25, `rate ${rate.toFixed(1)} jobs/s over the limit: ${t}`);
  },

  async concurrency(ctx) {
    const events = await ctx.events();
    let inFlight = 0;
    let peak = 0;
    ctx.worker(
      async (job) => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        // Hold each job until 5 have been in flight together (or the deadline fails it).
        await waitFor(() => peak >= 5, 10000, "5 jobs in flight");
        await sleep(20);
        inFlight -= 1;
        return job.data.i;
      },
      { concurrency: 5 },
    );
    const jobs = await ctx.queue.addBulk(Array.from({ length: 12 }, (_, i) => ({ name: "c", data: { i } })));
    eq(await Promise.all(jobs.map((job) => finished(job, events))), jobs.map((_, i) => i), "results");
    eq(peak, 5, "jobs in flight at once");
  },

  async pause(ctx) {
    const events = await ctx.events();
    const processed = [];
    const worker = ctx.worker(async (job) => processed.push(job.name));
    eq(await finished(await ctx.queue.add("before", {}), events), 1, "job before pausing");
    await ctx.queue.pause();
    check(await ctx.queue.isPaused(), "isPaused after pause()");
    const held = await ctx.queue.addBulk([1, 2, 3].map((i) => ({ name: `held-${i}`, data: {} })));
    eq(await held[0].getState(), "waiting", "state of a job added while paused");
    // A negative check needs some time: the worker is connected and idle for this long.
    const quietUntil = Date.now() + 700;
    await waitFor(() => Date.now() > quietUntil || processed.length > 1, 2000, "quiet period");
    eq(processed, ["before"], "jobs processed while paused");
    eq(await ctx.queue.getJobCounts("paused", "wait", "active"), { paused: 0, wait: 3, active: 0 }, "counts while paused (BullMQ 6 keeps paused jobs in wait)");
    check(worker.isRunning(), "worker still running");
    await ctx.queue.resume();
    check(!(await ctx.queue.isPaused()), "isPaused after resume()");
    await Promise.all(held.map((job) => finished(job, events)));
    eq(processed, ["before", "held-1", "held-2", "held-3"], "jobs processed after resume");
  },

  async counts(ctx) {
    const events = await ctx.events();
    const worker = ctx.worker(async (job) => {
      if (job.name === "bad") throw new Error("bad");
    });
    const settled = await ctx.queue.addBulk([{ name: "ok" }, { name: "ok" }, { name: "bad" }].map((j) => ({ ...j, data: {} })));
    for (const job of settled) await finished(job, events).catch(() => {});
    await worker.close();
    await ctx.queue.addBulk([1, 2, 3].map((i) => ({ name: "w", data: { i } })));
    await ctx.queue.add("d", {}, { delay: 60000 });
    await ctx.queue.add("d", {}, { delay: 60000 });
    await ctx.queue.add("p", {}, { priority: 3 });
    eq(
      await ctx.queue.getJobCounts("completed", "failed", "waiting", "delayed", "prioritized", "active", "paused"),
      { completed: 2, failed: 1, waiting: 3, delayed: 2, prioritized: 1, active: 0, paused: 0 },
      "getJobCounts",
    );
    eq(await ctx.queue.getJobCountByTypes("waiting", "delayed", "prioritized"), 6, "getJobCountByTypes");
    eq(await ctx.queue.count(), 6, "count()");
  },

  async schedulers(ctx) {
    const runs = { every: [], cron: [] };
    ctx.worker(async (job) => {
      // Scheduler job ids end with the time the run is due: repeat:<scheduler>:<ms>.
      runs[job.name].push({ at: Date.now(), due: Number(job.id.split(":").at(-1)), data: job.data });
    });
    await ctx.queue.upsertJobScheduler("every-400", { every: 400 }, { name: "every", data: { kind: "every" } });
    await ctx.queue.upsertJobScheduler("each-second", { pattern: "*/1 * * * * *" }, { name: "cron", data: { kind: "cron" } });
    const schedulers = await ctx.queue.getJobSchedulers();
    eq(
      schedulers.map((s) => [s.key, s.every ?? null, s.pattern ?? null]).sort(),
      [
        ["each-second", null, "*/1 * * * * *"],
        ["every-400", 400, null],
      ],
      "getJobSchedulers",
    );
    await waitFor(() => runs.every.length >= 4 && runs.cron.length >= 3, 10000, "4 'every' runs and 3 cron runs");
    await ctx.queue.removeJobScheduler("every-400");
    await ctx.queue.removeJobScheduler("each-second");
    eq(await ctx.queue.getJobSchedulersCount(), 0, "schedulers left after removal");
    for (const [kind, period] of [
      ["every", 400],
      ["cron", 1000],
    ]) {
      const r = runs[kind];
      check(r.every((x) => x.data.kind === kind), `${kind} job data ${JSON.stringify(r)}`);
      // Runs after the first are due one period apart (cron ones on whole seconds) and
      // never start before they are due.
      for (const run of r.slice(1)) {
        check(kind !== "cron" || run.due % 1000 === 0, `cron run due at ${run.due}, not on a second`);
        check(run.at >= run.due, `${kind} run started ${run.due - run.at} ms early`);
      }
      const dueGaps = r.slice(2).map((x, i) => x.due - r[i + 1].due);
      // 'every' counts from when the previous run was scheduled; cron runs are on whole
      // seconds (a second missed under load is skipped, not run late).
      const gapOk =
        kind === "cron" ? (g) => g >= period && g % period === 0 : (g) => g >= period && g < period + 3000;
      check(dueGaps.every(gapOk), `${kind} due gaps ${dueGaps} (period ${period})`);
    }
    const leftover = await ctx.queue.getDelayed();
    eq(leftover.length, 0, "scheduled jobs left after removing the schedulers");
  },

  async flows(ctx) {
    const events = await ctx.events();
    const order = [];
    const worker = await stoppedWorker(
      ctx,
      async (job) => {
        order.push(job.name);
        if (job.name === "parent") {
          const values = await job.getChildrenValues();
          return { total: Object.values(values).reduce((a, b) => a + b, 0), count: Object.keys(values).length };
        }
        return job.data.n * job.data.n;
      },
      { concurrency: 3 },
    );
    const flows = ctx.track(new FlowProducer({ connection }));
    const tree = await flows.add({
      name: "parent",
      queueName: ctx.queueName,
      data: {},
      children: [2, 3, 4].map((n) => ({ name: `child-${n}`, queueName: ctx.queueName, data: { n } })),
    });
    eq(await tree.job.getState(), "waiting-children", "parent state before its children ran");
    eq(tree.children.length, 3, "children created");
    // Start processing only now: the parent must still wait for its children.
    worker.run();
    eq(await finished(tree.job, events), { total: 29, count: 3 }, "parent result from children values");
    eq(order.at(-1), "parent", "parent processed last");
    eq(order.slice(0, 3).sort(), ["child-2", "child-3", "child-4"], "children processed first");
    const dependencies = await (await ctx.queue.getJob(tree.job.id)).getDependenciesCount();
    eq(dependencies.processed, 3, "processed dependencies of the parent");
  },

  async stalled(ctx) {
    const events = await ctx.events();
    const stalledIds = [];
    events.on("stalled", ({ jobId }) => stalledIds.push(jobId));
    const job = await ctx.queue.add("survivor", { v: 7 });
    // The first worker runs in another process that takes the job and is killed mid-job.
    const childScript = fileURLToPath(new URL("./bullmq_stalled_worker.mjs", import.meta.url));
    const child = spawn(process.execPath, [childScript, String(port), protocolArg, ctx.queueName], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let childOut = "";
    child.stdout.on("data", (chunk) => (childOut += chunk));
    await waitFor(() => childOut.includes(`started ${job.id}`) || child.exitCode !== null, 20000, "child worker to take the job");
    check(childOut.includes(`started ${job.id}`), `child worker output: ${childOut}`);
    child.kill("SIGKILL");
    await once(child, "exit");
    eq(await job.getState(), "active", "state after the worker was killed");
    const killedAt = Date.now();
    ctx.worker(async (j) => ({ recovered: j.data.v, attempts: j.attemptsStarted }), {
      stalledInterval: 300,
      lockDuration: 1000,
      maxStalledCount: 1,
    });
    const result = await finished(job, events, 20000);
    eq(result.recovered, 7, "stalled job result from the second worker");
    check(Date.now() - killedAt < 15000, "recovery took too long");
    await waitFor(() => stalledIds.includes(job.id), 5000, "stalled event");
    const stored = await ctx.queue.getJob(job.id);
    eq(stored.stalledCounter, 1, "stalledCounter");
    eq(await stored.getState(), "completed", "final state");
  },

  async obliterate(ctx) {
    const events = await ctx.events();
    let release;
    const gate = new Promise((resolve) => (release = resolve));
    const worker = ctx.worker(async (job) => {
      if (job.name === "hold") await gate;
      if (job.name === "bad") throw new Error("bad");
    });
    for (const name of ["ok", "bad"]) await finished(await ctx.queue.add(name, {}), events).catch(() => {});
    const held = await ctx.queue.add("hold", {});
    await waitFor(async () => (await held.getState()) === "active", 5000, "held job active");
    await ctx.queue.add("later", {}, { delay: 60000 });
    await ctx.queue.upsertJobScheduler("s", { every: 60000 }, { name: "sched" });
    let refused;
    await ctx.queue.obliterate().catch((e) => (refused = e));
    check(/active jobs/i.test(refused?.message ?? ""), `obliterate with an active job: ${refused?.message ?? "succeeded"}`);
    release();
    await finished(held, events);
    await worker.close();
    const keysOf = async () => (await admin.keys(`bull:${ctx.queueName}:*`)).sort();
    check((await keysOf()).length > 5, "queue keys present before obliterate");
    await ctx.queue.obliterate({ force: true });
    eq(await keysOf(), [], "keys left after obliterate");
    eq(await ctx.queue.getJobCounts("waiting", "completed", "failed", "delayed"), { waiting: 0, completed: 0, failed: 0, delayed: 0 }, "counts after obliterate");
  },

  async workers(ctx) {
    const named = ctx.worker(async () => {}, { name: "alpha" });
    const unnamed = ctx.worker(async () => {});
    await Promise.all([named.waitUntilReady(), unnamed.waitUntilReady()]);
    const workers = await waitFor(async () => {
      const list = await ctx.queue.getWorkers();
      return list.length === 2 && list;
    }, 5000, "2 workers in CLIENT LIST");
    const raw = workers.map((w) => w.rawname).sort();
    const prefix = `bull:${Buffer.from(ctx.queueName).toString("base64")}`;
    eq(raw, [prefix, `${prefix}:w:alpha`].sort(), "worker client names");
    check(workers.every((w) => w.name === ctx.queueName && /^\d+$/.test(w.id) && w.addr.startsWith("127.0.0.1:")), `parsed workers ${JSON.stringify(workers)}`);
    await unnamed.close();
    await waitFor(async () => (await ctx.queue.getWorkersCount()) === 1, 5000, "1 worker after closing one");
  },

  async dedup(ctx) {
    const events = await ctx.events();
    const dedupEvents = [];
    events.on("deduplicated", ({ jobId, deduplicationId }) => dedupEvents.push([jobId, deduplicationId]));
    const seen = [];
    const worker = await stoppedWorker(ctx, async (job) => seen.push([job.id, job.data.v]));

    // Without ttl: deduplicated until the job finishes.
    const first = await ctx.queue.add("d", { v: 1 }, { deduplication: { id: "same" } });
    const second = await ctx.queue.add("d", { v: 2 }, { deduplication: { id: "same" } });
    eq(second.id, first.id, "job id returned for a duplicate");
    eq(await ctx.queue.getDeduplicationJobId("same"), first.id, "deduplication key");
    eq(await ctx.queue.getJobCounts("wait"), { wait: 1 }, "one job queued");
    await waitFor(() => dedupEvents.length === 1, 5000, "deduplicated event");
    eq(dedupEvents, [[first.id, "same"]], "deduplicated event");
    worker.run();
    await finished(first, events);
    eq(seen, [[first.id, 1]], "processed once with the first data");
    await waitFor(async () => (await ctx.queue.getDeduplicationJobId("same")) === null, 5000, "deduplication key released after completion");
    const third = await ctx.queue.add("d", { v: 3 }, { deduplication: { id: "same" } });
    check(third.id !== first.id, "new job after the first one completed");
    await finished(third, events);

    // Debounce: ttl keeps the key for ttl ms (a server-side expiry), even though the job is delayed.
    const t0 = Date.now();
    const debounced = await ctx.queue.add("db", { v: 4 }, { delay: 2000, deduplication: { id: "ttl", ttl: 400 } });
    const again = await ctx.queue.add("db", { v: 5 }, { delay: 2000, deduplication: { id: "ttl", ttl: 400 } });
    eq(again.id, debounced.id, "duplicate within ttl");
    const pttl = await admin.pttl(`bull:${ctx.queueName}:de:ttl`);
    check(pttl > 0 && pttl <= 400, `deduplication key pttl ${pttl}`);
    await waitFor(async () => (await ctx.queue.getDeduplicationJobId("ttl")) === null, 5000, "ttl expiry");
    check(Date.now() - t0 >= 380, "deduplication key expired before its ttl");
    const afterTtl = await ctx.queue.add("db", { v: 6 }, { deduplication: { id: "ttl", ttl: 400 } });
    check(afterTtl.id !== debounced.id, "new job after the ttl expired");
    await finished(afterTtl, events);

    // Debounce with replace + extend: the last add within the window wins, once.
    const opts = { delay: 500, deduplication: { id: "last", ttl: 500, extend: true, replace: true } };
    const d1 = await ctx.queue.add("last", { v: 7 }, opts);
    const d2 = await ctx.queue.add("last", { v: 8 }, opts);
    const d3 = await ctx.queue.add("last", { v: 9 }, opts);
    await within(
      waitFor(() => seen.some(([, v]) => v >= 7), 10000, "debounced job"),
      11000,
      "debounced job",
    );
    await waitFor(async () => (await ctx.queue.getJobCounts("delayed", "wait", "active")).delayed === 0, 5000, "nothing delayed");
    await waitFor(async () => (await ctx.queue.getJobCounts("active")).active === 0, 5000, "nothing active");
    const lastRuns = seen.filter(([, v]) => v >= 7);
    eq(lastRuns.map(([, v]) => v), [9], "debounced runs (data of the last add)");
    // replace swaps in a new delayed job each time; the replaced ones are gone.
    eq(lastRuns[0][0], d3.id, "id of the debounced run");
    eq(await Promise.all([d1.id, d2.id].map((id) => ctx.queue.getJob(id))), [undefined, undefined], "replaced jobs");
  },
};

const names = wanted.length ? wanted : Object.keys(scenarios);
const unknown = names.filter((n) => !scenarios[n]);
if (unknown.length) {
  console.error(`unknown scenarios: ${unknown.join(", ")}`);
  process.exit(2);
}

// ioredis falls back to RESP2 without a word when HELLO 3 fails: refuse to run then.
const adminInfo = String(await admin.call("CLIENT", "INFO"));
if (!adminInfo.includes(` resp=${protocol}`)) {
  console.log(`${label}: FAILED: the connection is not on RESP${protocol}: ${adminInfo}`);
  process.exit(1);
}
const wallStart = Date.now();
for (const name of names) {
  const started = Date.now();
  const ctx = scenarioContext(`${name}-${protocolArg}`);
  try {
    await within(scenarios[name](ctx), 60000, `scenario ${name}`);
    const clients = await checkProtocolOfAllClients(name);
    await within(ctx.close(), 15000, `closing ${name}`);
    console.log(`${label}: ${name} ok (${Date.now() - started} ms, ${clients} clients on RESP${protocol})`);
  } catch (err) {
    console.log(`${label}: scenario ${name} FAILED: ${err instanceof CheckFailed ? err.message : err.stack}`);
    process.exit(1);
  }
}
await admin.quit();
console.log(`${label}: ${names.length} scenarios in ${Date.now() - wallStart} ms`);
console.log("OK");
process.exit(0);
