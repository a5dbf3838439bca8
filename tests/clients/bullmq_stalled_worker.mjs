// The worker that stalls, for the "stalled" scenario of bullmq_e2e.mjs:
//
//   node bullmq_stalled_worker.mjs <port> <resp3|resp2> <queue>
//
// Takes a job, prints "started <job id>" and never finishes it; the parent kills this process
// with SIGKILL, so its job lock (lockDuration 1000 ms) stops being renewed and expires.
import { Worker } from "bullmq";

const [portArg, protocolArg, queueName] = process.argv.slice(2);
const connection = {
  host: "127.0.0.1",
  port: Number(portArg),
  maxRetriesPerRequest: null,
  ...(protocolArg === "resp2" ? { protocol: 2 } : {}),
};
new Worker(
  queueName,
  (job) => {
    process.stdout.write(`started ${job.id}\n`);
    return new Promise(() => {});
  },
  // Its stalled checker also runs at start and sets the queue's stalled-check key for
  // stalledInterval ms: short, so the surviving worker's checker is not held off.
  { connection, lockDuration: 1000, stalledInterval: 300 },
);
