/**
 * Every log line the chaos suite produces goes two ways: through the product's real Powertools
 * logger (lambda/obs/telemetry.ts, at DEBUG, its stdout and stderr captured while the suite runs)
 * and into a RecordingLog of its run (the raw messages and attributes, before any redaction). The
 * token is never registered with the logger's redaction here, so the scan checks that no code
 * path puts it in a log line at all — not only that the last line of defence blanks it.
 *
 * A run's log also answers which hashes the poll cycle itself said may go out twice
 * (`mayBeSentTwice: true`), and why; a process that died (test/support/crash-points.ts) logs
 * nothing more, as a killed process writes no more lines.
 */
import type { Log } from '../../../../lambda/domain/ports';
import { createLogger } from '../../../../lambda/obs/telemetry';
import { RecordingLog } from '../../harness';

/** Why the poll cycle said an event may go out twice: the message of each such log line. */
export const SENT_TWICE_REASONS = [
  ['ambiguous send', 'no answer in time from a send that may have gone out'],
  ['outcome unwritten at the end', "a delivery's outcome could not be written before the run ended"],
  ['claim taken over', 'another poller had taken the claim over before the outcome was written'],
] as const;
export type SentTwiceReason = (typeof SENT_TWICE_REASONS)[number][0] | 'other';

type Level = 'debug' | 'info' | 'warn' | 'error';

/** The suite's Powertools logger, shared by the runs, and a tap that sees every raw line recorded. */
export class SuiteLog {
  readonly #powertools: Log = createLogger({ level: 'DEBUG' });
  /** Called with each recorded line as JSON text (the suite's token scan). */
  tap: ((text: string) => void) | undefined;

  /** A log of its own for one run, also written through the Powertools logger. */
  forRun(): RunLog {
    return new RunLog(this.#powertools, (text) => this.tap?.(text));
  }
}

export class RunLog implements Log {
  readonly recording = new RecordingLog();
  constructor(
    readonly powertools: Log,
    readonly tap: (text: string) => void = () => undefined,
  ) {}

  debug = (message: string, attributes?: Record<string, unknown>) => this.#both('debug', message, attributes);
  info = (message: string, attributes?: Record<string, unknown>) => this.#both('info', message, attributes);
  warn = (message: string, attributes?: Record<string, unknown>) => this.#both('warn', message, attributes);
  error = (message: string, attributes?: Record<string, unknown>) => this.#both('error', message, attributes);

  #both(level: Level, message: string, attributes?: Record<string, unknown>): void {
    this.recording[level](message, attributes);
    this.tap(lineText({ level, message, ...(attributes ? { attributes } : {}) }));
    this.powertools[level](message, attributes);
  }

  /** The same log, silent once `dead()` (a crashed process writes nothing more). */
  until(dead: () => boolean): Log {
    const line =
      (level: Level) =>
      (message: string, attributes?: Record<string, unknown>): void => {
        if (!dead()) this.#both(level, message, attributes);
      };
    return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
  }

  /** Hash → every reason the poll cycle logged that it may go out twice (one entry per line). */
  mayBeSentTwice(): Map<string, SentTwiceReason[]> {
    const out = new Map<string, SentTwiceReason[]>();
    for (const line of this.recording.lines) {
      if (line.attributes?.mayBeSentTwice !== true) continue;
      const hash = String(line.attributes.hash);
      const reason = SENT_TWICE_REASONS.find(([, text]) => line.message.startsWith(text))?.[0] ?? 'other';
      out.set(hash, [...(out.get(hash) ?? []), reason]);
    }
    return out;
  }

  /** Lines whose message starts with `text`. */
  count(text: string): number {
    return this.recording.lines.filter((l) => l.message.startsWith(text)).length;
  }
}

/** One recorded line as JSON text (message and attributes). */
export function lineText(line: { level: string; message: string; attributes?: Record<string, unknown> }): string {
  try {
    return JSON.stringify(line);
  } catch {
    return `${line.level} ${line.message} [attributes not serializable]`;
  }
}

// --- what the process writes -----------------------------------------------------------------

export interface StdioCapture {
  /** Stop capturing (idempotent); later output reaches the terminal again. */
  stop(): void;
}

/**
 * Hand every line this process writes to stdout and stderr to `onLine` instead (the Powertools
 * logger's lines: its Console looks up `stream.write` at each line). Print the suite's own lines
 * through a writer taken before the capture starts.
 */
export function captureStdio(onLine: (line: string) => void): StdioCapture {
  const streams = [process.stdout, process.stderr] as const;
  const originals = streams.map((s) => s.write);
  const pending = ['', ''];
  streams.forEach((stream, i) => {
    const write = (chunk: unknown, encodingOrCallback?: unknown, callback?: unknown): boolean => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
      const parts = (pending[i] + text).split('\n');
      pending[i] = parts.pop() ?? '';
      for (const part of parts) onLine(part);
      const done = typeof encodingOrCallback === 'function' ? encodingOrCallback : callback;
      if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
      return true;
    };
    stream.write = write as typeof stream.write;
  });
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      for (const rest of pending) if (rest !== '') onLine(rest);
      streams.forEach((stream, i) => {
        stream.write = originals[i]!;
      });
    },
  };
}

// --- the token scan --------------------------------------------------------------------------

export interface TokenScan {
  readonly linesScanned: number;
  readonly hits: number;
  /** Up to five places the token was found, cut around it (the token itself shown as ***). */
  readonly excerpts: readonly string[];
  /** The longest line scanned, in characters (CloudWatch Logs keeps at most 256 KB of an event). */
  readonly longestLine: number;
}

/** Looks for the token in every text it is fed, keeping only counts and excerpts (never the token itself). */
export class TokenScanner {
  #lines = 0;
  #hits = 0;
  #longest = 0;
  readonly #excerpts: string[] = [];
  constructor(readonly token: string) {}

  feed(text: string): void {
    this.#lines += 1;
    this.#longest = Math.max(this.#longest, text.length);
    const { token } = this;
    let at = text.indexOf(token);
    while (at >= 0) {
      this.#hits += 1;
      if (this.#excerpts.length < 5)
        this.#excerpts.push(
          `…${text.slice(Math.max(0, at - 80), at)}***${text.slice(at + token.length, at + token.length + 40)}…`,
        );
      at = text.indexOf(token, at + token.length);
    }
  }

  result(): TokenScan {
    return { linesScanned: this.#lines, hits: this.#hits, excerpts: [...this.#excerpts], longestLine: this.#longest };
  }
}
