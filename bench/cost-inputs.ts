/**
 * The cost model of one bench run, built from what it measured (idle runs, the burst) and the
 * stack's resource counts, with the product's own constants (memory size, run length, token
 * cache, polling defaults). `npm run bench` and `bench/cost-run.ts` both build it here.
 */
import { POLLER_MEMORY_MB } from '../infra/constructs/poller';
import { SECRET_CACHE_SECONDS } from '../lambda/config/runtime';
import { PollingSchema } from '../lambda/config/schema';
import { MAX_RUN_MS } from '../lambda/handler';
import type { InventoryResult } from './cost/inventory';
import { buildCostModel, type CostModel, type RunFigures } from './cost/model';
import type { BurstResult } from './sections/burst';
import type { IdleResult, InvocationCost } from './sections/idle';

const figures = (x: InvocationCost): RunFigures => ({
  ticks: x.ticks,
  writeUnits: x.writeCapacityUnits,
  readUnits: x.readCapacityUnits,
  readRequests: x.dynamoDbReads,
  logBytes: x.logBytes,
  logLines: x.logLines,
});

export function costModelOf(idle: IdleResult, burst: BurstResult, inventory: InventoryResult): CostModel {
  const polling = PollingSchema.parse({});
  return buildCostModel({
    memoryMb: POLLER_MEMORY_MB,
    maxRunMs: MAX_RUN_MS,
    runWorkMs: idle.runWorkMsMedian,
    runs: new Map([
      [idle.at60.intervalSeconds, figures(idle.at60)],
      [idle.at10.intervalSeconds, figures(idle.at10)],
    ]),
    secretCacheSeconds: SECRET_CACHE_SECONDS,
    inventory,
    defaultIntervalSeconds: polling.intervalSeconds,
    sourcesPerShard: polling.sourcesPerShard,
    customMetrics: { idle: idle.emfMetricsIdle.length, busy: burst.emfMetrics.length },
    perEvent: {
      writeUnits: burst.perEvent.writeCapacityUnits,
      readUnits: burst.perEvent.readCapacityUnits,
      readRequests: burst.perEvent.dynamoDbReads,
      // What every event costs in sends: over the runs that sent the whole burst (the first sends about half).
      snsPublishes: (burst.drain?.perEvent ?? burst.perEvent).snsCalls,
      sesRecipients: (burst.drain?.perEvent ?? burst.perEvent).sesRecipients,
      smsMessages: burst.perEvent.smsMessages,
      sendCalls:
        (burst.drain?.perEvent ?? burst.perEvent).sesCalls + (burst.drain?.perEvent ?? burst.perEvent).snsCalls,
      lambdaMs: burst.wallMs / burst.events,
    },
  });
}
