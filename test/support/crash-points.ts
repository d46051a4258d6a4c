/**
 * Crash injection from outside the poll cycle, at its ports: a `MortalProcess` wraps the store,
 * the deliverer and the QR-menu fetch of one poller and dies at a planned point — after a fetch
 * answered, after a record was written, after a delivery went out (before its outcome is written),
 * after an outcome was written, or as the final state save starts. From then on every call of its
 * ports throws `SimulatedCrash`: a killed process makes no more calls, and answers in flight never
 * reach it. A delivery that went out around the death falls in the one window where a duplicate
 * is allowed, and is listed in `window`.
 */
import type { Deliverer } from '../../lambda/domain/delivery';
import type { EventStore, SourceStore } from '../../lambda/domain/ports';
import type { FetchEvents } from '../../lambda/domain/fetch';
import { SimulatedCrash } from './harness';

export const CRASH_POINTS = ['fetched', 'claimed', 'delivered', 'marked', 'before-checkpoint'] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

export interface CrashPlan {
  readonly point: CrashPoint;
  /** Die at the n-th time the point is passed (1 = the first). */
  readonly occurrence: number;
}

export class MortalProcess {
  #dead = false;
  readonly #seen = new Map<CrashPoint, number>();
  /** Sent, and their outcome not yet written: if the process dies now, they are in the window. */
  readonly #unwritten = new Set<string>();
  /** Hashes delivered but not recorded as delivered when the process died. */
  readonly window = new Set<string>();
  crashed: { point: CrashPoint | 'killed'; hash?: string } | undefined;

  constructor(
    private readonly plan?: CrashPlan,
    /** Killed from outside (e.g. at the Lambda's timeout), checked at every call. */
    private readonly killedWhen: () => boolean = () => false,
  ) {}

  get dead(): boolean {
    if (!this.#dead && this.killedWhen()) {
      this.#die();
      this.crashed ??= { point: 'killed' };
    }
    return this.#dead;
  }

  #die(): void {
    this.#dead = true;
    for (const hash of this.#unwritten) this.window.add(hash);
  }

  store<T extends SourceStore & EventStore>(store: T): T {
    return this.#wrap(store, {
      before: (method, args) => {
        if (method === 'saveState' && (args[3] as { release?: boolean } | undefined)?.release) {
          this.#pass('before-checkpoint');
        }
      },
      after: (method, args) => {
        if (method === 'create') this.#pass('claimed');
        if (method === 'markDelivered' || method === 'markRetry' || method === 'markFailed') {
          this.#unwritten.delete(String(args[1]).split('@')[0]!);
          this.#pass('marked');
        }
      },
    });
  }

  deliverer<T extends Deliverer>(deliverer: T): T {
    return this.#wrap(deliverer, {
      onLateAnswer: (_method, args) => this.#inWindow(args),
      after: (_method, args) => {
        const hash = (args[0] as { event?: { hash?: string } } | undefined)?.event?.hash;
        if (hash) this.#unwritten.add(hash);
        this.#pass('delivered');
      },
    });
  }

  fetch(fetch: FetchEvents): FetchEvents {
    return async (cursor, options) => {
      if (this.dead) throw new SimulatedCrash('the process is dead');
      const answer = await fetch(cursor, options);
      if (this.dead) throw new SimulatedCrash('the process died while waiting');
      this.#pass('fetched');
      return answer;
    };
  }

  #inWindow(args: unknown[]): void {
    const hash = (args[0] as { event?: { hash?: string } } | undefined)?.event?.hash;
    if (hash) this.window.add(hash);
  }

  #pass(point: CrashPoint): void {
    const count = (this.#seen.get(point) ?? 0) + 1;
    this.#seen.set(point, count);
    if (this.plan && this.plan.point === point && this.plan.occurrence === count) {
      this.#die();
      this.crashed = { point };
      throw new SimulatedCrash(`crash at ${point}`);
    }
  }

  #wrap<T extends object>(
    target: T,
    hooks: {
      before?: (method: string, args: unknown[]) => void;
      after?: (method: string, args: unknown[]) => void;
      onLateAnswer?: (method: string, args: unknown[]) => void;
    },
  ): T {
    return new Proxy(target, {
      get: (object, property) => {
        const value = Reflect.get(object, property, object) as unknown;
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          if (this.dead) throw new SimulatedCrash('the process is dead');
          hooks.before?.(String(property), args);
          const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(object, args);
          if (this.dead) {
            hooks.onLateAnswer?.(String(property), args);
            throw new SimulatedCrash('the process died while waiting');
          }
          hooks.after?.(String(property), args);
          return result;
        };
      },
    });
  }
}
