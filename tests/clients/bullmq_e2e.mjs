// BullMQ end to end against a server on 127.0.0.1:<port>: its Lua scripts (cjson, cmsgpack,
// keys built at run time), streams for events (XADD, XREAD BLOCK), BZPOPMIN/BLMOVE markers,
// delayed jobs, retries with backoff, progress and job data. Prints OK when every check passed.
import { Queue, QueueEvents, Worker } from "bullmq";

const port = Number(process.argv[2]);
const connection = { host: "127.0.0.1", port, maxRetriesPerRequest: null };
const fail = (msg) => {
  console.error(msg);
  process.exit(1);
};
const timer = setTimeout(() => fail("timed out"), 120000);

const queue = new Queue("e2e", { connection });
const events = new QueueEvents("e2e", { connection });
await events.waitUntilReady();

let attempts = 0;
const worker = new Worker(
  "e2e",
  async (job) => {
    if (job.name === "flaky") {
      attempts += 1;
      if (attempts < 3) throw new Error("try again");
    }
    await job.updateProgress(50);
    return { sum: job.data.a + job.data.b, name: job.name };
  },
  { connection, concurrency: 2 },
);

const done = (job) => job.waitUntilFinished(events, 60000);

const first = await queue.add("add", { a: 2, b: 3 });
const r1 = await done(first);
if (r1.sum !== 5) fail(`unexpected result ${JSON.stringify(r1)}`);

const many = await queue.addBulk(
  Array.from({ length: 20 }, (_, i) => ({ name: "add", data: { a: i, b: i } })),
);
const results = await Promise.all(many.map(done));
if (results.some((r, i) => r.sum !== 2 * i)) fail(`bulk results ${JSON.stringify(results)}`);

const delayed = await queue.add("add", { a: 1, b: 1 }, { delay: 500 });
const started = Date.now();
const r2 = await done(delayed);
if (r2.sum !== 2 || Date.now() - started < 450) fail("delayed job ran early or wrong");

const flaky = await queue.add("flaky", { a: 0, b: 1 }, { attempts: 5, backoff: { type: "fixed", delay: 100 } });
const r3 = await done(flaky);
if (r3.sum !== 1 || attempts !== 3) fail(`retries: attempts=${attempts}`);

const counts = await queue.getJobCounts("completed", "failed", "waiting", "delayed");
if (counts.completed !== 23 || counts.failed !== 0) fail(`counts ${JSON.stringify(counts)}`);
const job = await queue.getJob(first.id);
if (job.progress !== 50 || job.returnvalue.sum !== 5) fail("job state not kept");

await worker.close();
await events.close();
await queue.obliterate({ force: true });
await queue.close();
clearTimeout(timer);
console.log("OK");
process.exit(0);
