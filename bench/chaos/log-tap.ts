/**
 * Every log line the reliability suite produces goes two ways: through the product's real
 * Powertools logger (lambda/obs/telemetry.ts, at DEBUG, its stdout captured) and into a
 * RecordingLog (the raw messages and attributes, before any redaction). The token is never
 * registered with the logger's redaction here, so the scan checks that no code path puts it in
 * a log line at all — not only that the last line of defence blanks it.
 */
import type { Log } from '../../lambda/domain/ports';
import { createLogger } from '../../lambda/obs/telemetry';
import { RecordingLog } from '../../test/support/harness';

export class TeeLog implements Log {
  readonly recording = new RecordingLog();
  readonly #powertools: Log = createLogger({ level: 'DEBUG' });
  debug = (message: string, attributes?: Record<string, unknown>) => this.#both('debug', message, attributes);
  info = (message: string, attributes?: Record<string, unknown>) => this.#both('info', message, attributes);
  warn = (message: string, attributes?: Record<string, unknown>) => this.#both('warn', message, attributes);
  error = (message: string, attributes?: Record<string, unknown>) => this.#both('error', message, attributes);

  #both(level: 'debug' | 'info' | 'warn' | 'error', message: string, attributes?: Record<string, unknown>): void {
    this.recording[level](message, attributes);
    this.#powertools[level](message, attributes);
  }

  /**
   * Hashes the poll cycle itself said may go out twice (`mayBeSentTwice: true`): a claim taken over
   * before its outcome was written, a send whose answer never came, an outcome unwritten at the end.
   */
  mayBeSentTwice(): Set<string> {
    return new Set(
      this.recording.lines.filter((l) => l.attributes?.mayBeSentTwice === true).map((l) => String(l.attributes?.hash)),
    );
  }
}

export interface TokenScan {
  readonly linesScanned: number;
  readonly hits: number;
  /** Up to five places the token was found, cut around it (the token itself shown as ***). */
  readonly excerpts: readonly string[];
}

/** Look for `token` in every text; excerpts never repeat the token itself. */
export function scanForToken(texts: Iterable<string>, token: string): TokenScan {
  let linesScanned = 0;
  let hits = 0;
  const excerpts: string[] = [];
  for (const text of texts) {
    linesScanned += 1;
    let at = text.indexOf(token);
    while (at >= 0) {
      hits += 1;
      if (excerpts.length < 5)
        excerpts.push(
          `…${text.slice(Math.max(0, at - 80), at)}***${text.slice(at + token.length, at + token.length + 40)}…`,
        );
      at = text.indexOf(token, at + token.length);
    }
  }
  return { linesScanned, hits, excerpts };
}

/** A RecordingLog's lines as one JSON text each (messages and attributes). */
export function recordedLines(log: RecordingLog): string[] {
  return log.lines.map((line) => {
    try {
      return JSON.stringify(line);
    } catch {
      return `${line.level} ${line.message} [attributes not serializable]`;
    }
  });
}
