// BullMQ's side of bench/bench_vs_bullmq.py: the same measures against the same redis-server.
// Usage: node bullmq_bench.mjs PORT ENQUEUES BULK JOBS
// Prints one JSON document: enqueue p50/p99 (µs) and rate, addBulk rate, no-op jobs/s at c=1 and c=50.
import { Queue, Worker } from "bullmq";

const [port, enqueues, bulk, jobs] = process.argv.slice(2).map(Number);
const connection = { host: "127.0.0.1", port };

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function timeEnqueues(queue) {
  for (let n = 0; n < 200; n++) await queue.add("noop", { n }); // warm up
  const samples = [];
  const started = process.hrtime.bigint();
  for (let n = 0; n < enqueues; n++) {
    const t0 = process.hrtime.bigint();
    await queue.add("noop", { n });
    samples.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  samples.sort((a, b) => a - b);
  return { rate: enqueues / seconds, p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) };
}

async function timeBulk(queue) {
  const started = process.hrtime.bigint();
  for (let done = 0; done < bulk; done += 1000) {
    const chunk = [];
    for (let n = done; n < Math.min(bulk, done + 1000); n++) chunk.push({ name: "noop", data: { n } });
    await queue.addBulk(chunk);
  }
  return bulk / (Number(process.hrtime.bigint() - started) / 1e9);
}

async function timeWorker(name, concurrency) {
  const queue = new Queue(name, { connection });
  for (let done = 0; done < jobs; done += 1000) {
    const chunk = [];
    for (let n = done; n < Math.min(jobs, done + 1000); n++) chunk.push({ name: "noop", data: { n } });
    await queue.addBulk(chunk);
  }
  let completed = 0;
  let started;
  const finished = new Promise((resolve) => {
    const worker = new Worker(name, async (job) => job.data.n, { connection, concurrency, autorun: false });
    worker.on("completed", () => {
      completed += 1;
      if (completed === jobs) resolve(worker);
    });
    started = process.hrtime.bigint();
    worker.run();
  });
  const worker = await finished;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await worker.close();
  await queue.close();
  return jobs / seconds;
}

const queue = new Queue("bench-enqueue", { connection });
const enqueue = await timeEnqueues(queue);
const addBulk = await timeBulk(queue);
await queue.close();
const c1 = await timeWorker("bench-c1", 1);
const c50 = await timeWorker("bench-c50", 50);
console.log(JSON.stringify({ enqueue, addBulk, c1, c50 }));
process.exit(0);
