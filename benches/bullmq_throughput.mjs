// BullMQ throughput against a server on 127.0.0.1:<port> (not part of the test suite):
//
//   node benches/bullmq_throughput.mjs <port> [jobs=20000] [concurrency=50]
//
// Adds <jobs> jobs with addBulk (batches of 1000), then processes them with one Worker of
// the given concurrency, and prints jobs/s for each phase as one JSON line. Resolves modules
// from tests/clients/node_modules (installed by scripts/test.sh).
import { createRequire } from "node:module";

const require = createRequire(new URL("../tests/clients/package.json", import.meta.url));
const { Queue, Worker } = require("bullmq");

const port = Number(process.argv[2]);
const jobs = Number(process.argv[3] ?? 20000);
const concurrency = Number(process.argv[4] ?? 50);
if (!port) {
  console.error("usage: bullmq_throughput.mjs <port> [jobs] [concurrency]");
  process.exit(2);
}
const connection = { host: "127.0.0.1", port, maxRetriesPerRequest: null };
const queueName = `throughput-${Date.now().toString(36)}`;
const queue = new Queue(queueName, { connection });
await queue.waitUntilReady();

const batch = 1000;
const addStart = process.hrtime.bigint();
for (let i = 0; i < jobs; i += batch) {
  const n = Math.min(batch, jobs - i);
  await queue.addBulk(
    Array.from({ length: n }, (_, k) => ({
      name: "work",
      data: { i: i + k, payload: "x".repeat(64) },
      opts: { removeOnComplete: true },
    })),
  );
}
const addSeconds = Number(process.hrtime.bigint() - addStart) / 1e9;

let processed = 0;
let resolveDone;
const done = new Promise((resolve) => (resolveDone = resolve));
const processStart = process.hrtime.bigint();
const worker = new Worker(queueName, async (job) => job.data.i, { connection, concurrency });
// Counted when a job is completed (moved out of active), not when its processor starts.
worker.on("completed", () => {
  processed += 1;
  if (processed === jobs) resolveDone();
});
await done;
const processSeconds = Number(process.hrtime.bigint() - processStart) / 1e9;
const left = await queue.getJobCounts("wait", "active", "completed", "failed");

await worker.close();
await queue.obliterate({ force: true });
await queue.close();
console.log(
  JSON.stringify({
    port,
    jobs,
    concurrency,
    add_per_s: Math.round(jobs / addSeconds),
    process_per_s: Math.round(jobs / processSeconds),
    left,
  }),
);
process.exit(0);
