/**
 * A child process of the scale bench: one warm Lambda execution environment. It imports the
 * bundled poller (index.mjs, as CDK builds it) and runs the invocations the parent asks for,
 * measuring each from inside: CPU time (user + system), wall time, and the peak resident set
 * and heap, sampled every 100 ms while the invocation runs (and the process's lifetime peak RSS).
 * The sampler's own CPU time counts in the figure (at 25 ms it was ≈ 3 % of a 25-source shard's).
 *
 * Protocol: argv[2] is the bundle's file URL. stdin lines are JSON `{ "event": {...},
 * "remainingMs": n, "id": "..." }`; for each, stdout gets the handler's own log lines and then
 * one line `BENCH_RESULT {json}`. The handler's configuration comes from the environment, as in
 * Lambda (ALERTS_CONFIG, STATE_TABLE_NAME, AWS_ENDPOINT_URL_*…).
 * With BENCH_CPU_PROFILE_DIR set, each invocation is also profiled (V8's sampling profiler) into
 * `<dir>/<id>.cpuprofile`, to see where a shard's CPU goes (the profiler adds its own CPU time).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const MARK = 'BENCH_RESULT ';
const { handler } = await import(process.argv[2]);
const profileDir = process.env.BENCH_CPU_PROFILE_DIR;
const profiler = profileDir ? new Session() : undefined;
if (profiler) {
  profiler.connect();
  await profiler.post('Profiler.enable');
}

for await (const line of createInterface({ input: process.stdin })) {
  const { event, remainingMs, id } = JSON.parse(line);
  const deadline = Date.now() + remainingMs;
  const context = { getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()), awsRequestId: id };
  let peakRss = process.memoryUsage.rss();
  let peakHeap = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }, 100);
  if (profiler) await profiler.post('Profiler.start');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let report;
  let error;
  try {
    report = await handler(event, context);
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  if (profiler) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(join(profileDir, `${id}.cpuprofile`), JSON.stringify(profile));
  }
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  const result = {
    id,
    report,
    error,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    peakRssMb: peakRss / 1_048_576,
    peakHeapMb: peakHeap / 1_048_576,
    lifetimeMaxRssMb: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`${MARK}${JSON.stringify(result)}\n`);
}
