/**
 * The shape of bench/results.json — every figure of one `npm run bench` with the machine it ran
 * on — and reading and writing it (written atomically: a temporary file, then a rename).
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { BundleResult } from './sections/bundle';
import type { ColdStartResult } from './sections/cold-start';
import type { BurstMemoryResult, BurstResult } from './sections/burst';
import type { LatencyResult } from './sections/latency';
import type { IdleResult } from './sections/idle';
import type { ScaleResult } from './sections/scale';
import type { SharedBurstResult } from './sections/shared-burst';
import type { InventoryResult } from './cost/inventory';
import type { CostModel } from './cost/model';
import type { GoalCheck } from './lib/goals';
import type { MachineInfo } from './lib/machine';

export const RESULTS_SCHEMA = 1;

export interface BenchOptions {
  readonly quick: boolean;
  readonly coldRuns: number;
  readonly firstInvocationRuns: number;
  readonly burstEvents: number;
  readonly sensitivityConcurrency: number | null;
  readonly latencyInvocations: number;
  readonly latencyIntervals: readonly number[];
  readonly eventsPerMinute: number;
  readonly idleRepeats: number;
  readonly costConfig: string;
  readonly seed: number;
  /** Sources per scale run, the sources one shard polls, and each guest's calls a minute. */
  readonly scaleSizes: readonly number[];
  /** Default: the product's polling.sourcesPerShard. */
  readonly sourcesPerShard?: number;
  readonly scaleEventsPerSourcePerMinute: number;
  /** Remaining time the measured scale invocation starts with (POLLER_TIMEOUT; less when quick). */
  readonly scaleRemainingMs: number;
}

export interface BenchResults {
  readonly schema: typeof RESULTS_SCHEMA;
  readonly machine: MachineInfo;
  readonly options: BenchOptions;
  readonly bundle: Omit<BundleResult, 'file' | 'dir' | 'packages'> & { readonly topPackages: BundleResult['packages'] };
  readonly coldStart: ColdStartResult;
  readonly burst: BurstResult;
  /** The same burst with a higher delivery.concurrency (a config setting), when run. */
  readonly burstAtHigherConcurrency?: BurstResult;
  /** The same burst through the bundle in a child process: its peak memory. */
  readonly burstMemory?: BurstMemoryResult;
  /** The SES quota shared by 20 shards' deliverers (sections/shared-burst.ts). */
  readonly sharedBurst?: SharedBurstResult;
  readonly latency: readonly LatencyResult[];
  readonly idle: IdleResult;
  readonly inventory: InventoryResult;
  readonly cost: CostModel;
  /** One deployment with 1 … 500 sources in shards (sections/scale.ts). */
  readonly scale?: readonly ScaleResult[];
  readonly goals: readonly GoalCheck[];
  readonly durationSeconds: number;
}

export function writeResults(path: string, results: BenchResults): void {
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(results, null, 2)}\n`);
  renameSync(temporary, path);
}

export function readResults(path: string): BenchResults {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as BenchResults;
  if (parsed.schema !== RESULTS_SCHEMA)
    throw new Error(`${path} has schema ${String(parsed.schema)}, this script reads ${RESULTS_SCHEMA}`);
  return parsed;
}
