/**
 * The live feed of `npm start`: one line per delivery, skip, SMS on a stand-in phone, operator
 * alert and error — for a person (time, restaurant, table, event, who got it how, how long after
 * the event appeared) or, with `--json`, one JSON object per line for scripts (format in README).
 */
import type { FeedEntry } from '../lambda/domain/ports';
import type { LocalStack, PhoneMessage } from './local-stack';

export interface FeedPrinterOptions {
  readonly json: boolean;
  readonly write: (line: string) => void;
  readonly now?: () => number;
}

const SKIP_REASON = {
  duplicate: 'seen before',
  suppressed: 'repeat within the cooldown',
  baseline: 'already queued at the first poll (not sent)',
} as const;

export class FeedPrinter {
  readonly #o: FeedPrinterOptions;

  constructor(options: FeedPrinterOptions) {
    this.#o = options;
  }

  /** A poll-cycle entry; `enqueuedAt` is when the simulator queued the event, when known. */
  entry(entry: FeedEntry, enqueuedAt?: number): void {
    const sinceQueuedMs = enqueuedAt !== undefined ? this.#now() - enqueuedAt : undefined;
    if (this.#o.json) {
      this.#json({ ...entry, ...(sinceQueuedMs !== undefined && entry.type === 'delivered' ? { sinceQueuedMs } : {}) });
      return;
    }
    switch (entry.type) {
      case 'delivered': {
        const after = sinceQueuedMs ?? entry.latencyMs;
        const to =
          entry.channel === 'email'
            ? `e-mail to ${entry.recipients.join(', ')}`
            : entry.channel === 'telegram'
              ? `Telegram chat ${entry.recipients.join(', ')}`
              : 'published to SNS (SMS by subscription)';
        this.#line(`${entry.source} · table ${entry.table} · ${entry.code} → ${to}  (+${(after / 1000).toFixed(1)} s)`);
        break;
      }
      case 'skipped':
        this.#line(`${entry.source} · table ${entry.table} · ${entry.code} · skipped: ${SKIP_REASON[entry.reason]}`);
        break;
      case 'retry':
        this.#line(
          `${entry.source} · table ${entry.table} · ${entry.code} · delivery failed (${entry.kind}), will retry: ${entry.message}`,
        );
        break;
      case 'failed':
        this.#line(
          `${entry.source} · table ${entry.table} · ${entry.code} · DELIVERY FAILED after ${entry.attempt} attempts: ${entry.message}`,
        );
        break;
      case 'error':
        this.#line(`${entry.source} · ERROR (${entry.kind}): ${entry.message}`);
        break;
      case 'gap':
        this.#line(`${entry.source} · WARNING: ${entry.message}`);
        break;
      case 'acknowledged':
        this.#line(
          `${entry.source} · table ${entry.table} · ✅ ${entry.by} is on the way (answered in ${(entry.responseMs / 1000).toFixed(0)} s)`,
        );
        break;
      case 'escalated':
        this.#line(
          `${entry.source} · table ${entry.table} · ⚠ nobody answered for ${(entry.waitedMs / 1000).toFixed(0)} s: escalation step ${entry.step} sent`,
        );
        break;
    }
  }

  sms(phone: string, message: PhoneMessage): void {
    if (this.#o.json)
      this.#json({ type: 'sms', phone, ...(message.hash ? { hash: message.hash } : {}), text: message.text });
    else this.#line(`  SMS → ${phone}: «${message.text}»`);
  }

  ops(subject: string, message: string): void {
    if (this.#o.json) this.#json({ type: 'ops', subject, message });
    else this.#line(`OPERATOR ALERT: ${subject} — ${message}`);
  }

  report(subject: string, recipients: readonly string[], viewer: string): void {
    if (this.#o.json) this.#json({ type: 'report', subject, recipients });
    else this.#line(`DAILY REPORT «${subject}» → ${recipients.join(', ')}  (see ${viewer})`);
  }

  note(text: string): void {
    if (!this.#o.json) this.#line(text);
  }

  fatal(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (this.#o.json) this.#json({ type: 'error', source: '*', kind: 'invocation', message });
    else this.#line(`ERROR: the invocation failed: ${message}`);
  }

  /** What runs where, and how to poke it. JSON mode prints a `ready` line instead. */
  banner(stack: LocalStack, options: { realUrl?: string; intervalSeconds: number }): void {
    const sims = [...stack.simulators].map(([id, sim]) => ({
      id,
      url: sim.url,
      fingerprint256: sim.fingerprint256,
      certPem: sim.certPem,
    }));
    if (this.#o.json) {
      this.#json({
        type: 'ready',
        sources: options.realUrl ? [{ url: options.realUrl }] : sims,
        ...stack.endpoints,
        phones: stack.phones.map((p) => p.phone),
      });
      return;
    }
    const w = (text: string) => this.#o.write(text);
    w('');
    w('qrmenu-alerts — running locally (no AWS account involved)');
    for (const sim of sims)
      w(`  QR-menu       ${sim.url}  (simulator for "${sim.id}", token demo-token, SHA-256 ${sim.fingerprint256})`);
    if (options.realUrl) w(`  QR-menu       ${options.realUrl}  (your server)`);
    w(`  polling       every ${options.intervalSeconds} s, the handler invoked once a minute`);
    w(`  state         DynamoDB Local ${stack.endpoints.dynamodb}`);
    w(`  e-mails       ${stack.endpoints.ses}/   ← open it: every e-mail, rendered (SES emulator)`);
    w(
      `  SMS           SNS emulator ${stack.endpoints.sns}; stand-in phones ${stack.phones.map((p) => p.phone).join(', ')}`,
    );
    if (stack.telegram) {
      w(`  Telegram      Bot API stand-in ${stack.telegram.endpoint}; a simulated waiter presses "Иду" on most calls`);
    }
    const first = sims[0];
    if (first) {
      w('');
      w('  a guest at table 6 calls the waiter:');
      w(`    curl -k -X POST ${first.url}/_sim/events -d '{"code":"waiter_call","tableName":"6"}'`);
      w("  (-k only because the simulator's certificate is made at start; the notifier itself pins it)");
    }
    w('');
    w('Ctrl-C stops everything.');
    w('');
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  #line(text: string): void {
    const time = new Date(this.#now()).toTimeString().slice(0, 8);
    this.#o.write(`${time}  ${text}`);
  }

  #json(value: object): void {
    this.#o.write(JSON.stringify(value));
  }
}
