/**
 * The judge of a staff-loop run, one call at a time, from what the Telegram emulator received (the
 * messages in the hall's chat and in each escalation step's chat), what the DynamoDB records say
 * (status, phase, who acknowledged and when, with which press) and the run's trace (staff-witness.ts):
 *   - the alert reached the hall once; an extra copy needs a crash window or a `mayBeSentTwice` line;
 *   - the first press made wins: the record's acknowledgement is that person, not earlier than the press;
 *     every other press is answered "taken by <winner>", the winning one "accepted"; each press counted once;
 *   - each escalation step went out at most once (same allowance), and only from a claim of the step
 *     written before the acknowledgement: a claim written after it (the step sent anyway) is a failure;
 *     a step already in flight when the acknowledgement lands is allowed, and counted;
 *   - a call nobody ever acknowledged got every step (or the step was given up on, loudly); nothing lost.
 */
import type { Explanation, RunOutcome } from './verdict';
import { NO_EXCUSES } from './verdict';
import type { Trace } from './staff-witness';

export interface StaffCall {
  readonly table: string;
  readonly hash: string;
}

export interface MadePress {
  /** Order in which presses reached the emulator. */
  readonly order: number;
  readonly table: string;
  readonly userId: string;
  readonly name: string;
  /** Manual-clock instant of the press. */
  readonly at: number;
}

export interface CallRecord {
  readonly recordId: string;
  readonly status: string;
  readonly phase: number;
  readonly firstSeenAt: number;
  readonly ackAt?: number;
  readonly ackBy?: string;
  readonly ackById?: string;
  readonly ackPress?: string;
}

export interface StaffFacts {
  readonly calls: readonly StaffCall[];
  /** `afterSeconds` of each escalation step, step 1 first. */
  readonly steps: readonly number[];
  readonly presses: readonly MadePress[];
  /** By table. */
  readonly records: ReadonlyMap<string, CallRecord>;
  /** Messages of the call at `table` in the chat of `phase` (0 = the hall). */
  readonly messages: (table: string, phase: number) => number;
  readonly trace: Trace;
  readonly explanations: (hash: string) => readonly Explanation[];
  /** `acknowledged` feed entries per hash. */
  readonly acknowledgedFeed: ReadonlyMap<string, number>;
  /** A press may go unanswered only if an answerCallbackQuery fault or a death of the press side could cause it. */
  readonly answersMayFail: boolean;
}

export type StaffJudgement = Pick<RunOutcome, 'lost' | 'excused' | 'doubled' | 'unexplained' | 'problems'> & {
  readonly figures: Record<string, number>;
};

const phaseName = (phase: number) => (phase === 0 ? 'alert' : `step ${phase}`);

export function judgeStaffLoop(f: StaffFacts): StaffJudgement {
  const lost: { id: string; why: string }[] = [];
  const excused = { ...NO_EXCUSES };
  const doubled: RunOutcome['doubled'][number][] = [];
  const unexplained: RunOutcome['unexplained'][number][] = [];
  const problems: string[] = [];
  let stepsSent = 0;
  let inFlight = 0;
  let unanswered = 0;

  for (const call of f.calls) {
    const record = f.records.get(call.table);
    const counts = [0, ...f.steps].map((_, phase) => f.messages(call.table, phase));
    const id = `table ${call.table}`;

    // Copies: every extra copy of any phase needs an explanation of the hash.
    const extra = counts.reduce((s, n) => s + Math.max(0, n - 1), 0);
    if (extra > 0) {
      const why = f.explanations(call.hash);
      const most = Math.max(...counts);
      if (why.length >= extra) doubled.push({ id, copies: most, explained: why.slice(0, extra) });
      else
        unexplained.push({
          id,
          copies: most,
          explanations: why.length,
          why: counts.map((n, p) => `${phaseName(p)} ×${n}`).join(', '),
        });
    }

    // Nothing lost: the alert, and every step of a call nobody acknowledged.
    if (counts[0] === 0) {
      if (record?.status === 'failed' && record.phase === 0) excused['given up'] += 1;
      else lost.push({ id, why: `the alert never reached the hall (record ${record?.status ?? 'absent'})` });
    } else if (record !== undefined && record.ackAt === undefined) {
      for (let step = 1; step <= f.steps.length; step += 1) {
        if (counts[step]! > 0) continue;
        if (record.status === 'failed' && record.phase <= step) excused['given up'] += 1;
        else
          lost.push({
            id: `${id} ${phaseName(step)}`,
            why: `nobody acknowledged the call, and escalation step ${step} never went out (record ${record.status}, phase ${record.phase})`,
          });
        break; // a later step follows only this one
      }
    }
    stepsSent += counts.slice(1).reduce((s, n) => s + n, 0);

    if (record === undefined) continue;
    const acks = f.trace.acks.filter((a) => a.recordId === record.recordId);
    const surelyAt = Math.min(...acks.filter((a) => a.outcome !== 'error').map((a) => a.ansSeq));
    const mayFrom = Math.min(...acks.map((a) => a.reqSeq));

    // Escalation steps and the acknowledgement.
    for (const attempt of f.trace.attempts) {
      if (attempt.recordId !== record.recordId || attempt.phase === 0 || attempt.reached === 0) continue;
      const step = attempt.phase;
      if (record.ackAt !== undefined && record.ackAt < record.firstSeenAt + f.steps[step - 1]! * 1000) {
        problems.push(
          `${id}: step ${step} went out although the call was acknowledged (by ${record.ackBy}) before the step was due`,
        );
        continue;
      }
      // The sender's claims of the step (an unanswered one may be what a later one found as its own).
      const claims = f.trace.claims.filter(
        (c) =>
          c.recordId === record.recordId &&
          c.phase === step &&
          c.owner === attempt.owner &&
          c.ansSeq < attempt.startSeq,
      );
      const claim = claims.find((c) => c.reqSeq < surelyAt) ?? claims.at(-1);
      if (claim === undefined) {
        problems.push(`${id}: step ${step} went out without a claim of it by its sender`);
        continue;
      }
      if (claim.reqSeq > surelyAt) {
        problems.push(
          `${id}: step ${step} went out after the call was acknowledged (by ${record.ackBy}): the step's ${claim.via} was written after the acknowledgement`,
        );
      } else if (attempt.endSeq > mayFrom) inFlight += 1;
    }

    // Presses: the first wins, the others are told who took it, each is counted once.
    const made = f.presses.filter((p) => p.table === call.table).sort((a, b) => a.order - b.order);
    const first = made[0];
    if (first === undefined) continue;
    if (record.ackAt === undefined) {
      problems.push(`${id}: ${first.name} pressed "On my way", and the call was never acknowledged`);
      continue;
    }
    if (record.ackById !== first.userId)
      problems.push(`${id}: acknowledged by ${record.ackBy}, but ${first.name} pressed first`);
    if (record.ackAt < first.at)
      problems.push(`${id}: the acknowledgement's time (${record.ackAt}) is before the first press (${first.at})`);
    const feed = f.acknowledgedFeed.get(call.hash) ?? 0;
    if (feed > 1) problems.push(`${id}: one acknowledgement was processed as new ${feed} times`);
    const ids = pressIds(f.trace, record.recordId);
    const nth = new Map<string, number>();
    for (const press of made) {
      const n = nth.get(press.userId) ?? 0;
      nth.set(press.userId, n + 1);
      const pressId = ids.get(press.userId)?.[n];
      if (pressId === undefined) {
        problems.push(`${id}: ${press.name}'s press was never read`);
        continue;
      }
      const answers = f.trace.answers.filter((a) => a.pressId === pressId);
      if (answers.length === 0) {
        unanswered += 1;
        if (!f.answersMayFail) problems.push(`${id}: ${press.name}'s press was never answered`);
      }
      const won = pressId === record.ackPress;
      for (const { answer } of answers) {
        const right = won ? answer.kind === 'accepted' : answer.kind === 'taken' && answer.by === record.ackBy;
        if (!right)
          problems.push(
            `${id}: ${press.name}'s press was answered "${answer.kind}${answer.kind === 'taken' ? ` by ${answer.by}` : ''}", but ${record.ackBy} took the call${won ? ' with it' : ''}`,
          );
      }
    }
  }

  return {
    lost,
    excused,
    doubled,
    unexplained,
    problems,
    figures: {
      presses: f.presses.length,
      acknowledged: [...f.records.values()].filter((r) => r.ackAt !== undefined).length,
      'escalation steps sent': stepsSent,
      'steps in flight when acknowledged': inFlight,
      'presses not answered (answer fault or crash)': unanswered,
    },
  };
}

/** Each presser's press ids on a record, in the order first read. */
function pressIds(trace: Trace, recordId: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const press of trace.read) {
    if (press.call?.recordId !== recordId) continue;
    const list = out.get(press.by.id) ?? [];
    if (!list.includes(press.id)) list.push(press.id);
    out.set(press.by.id, list);
  }
  return out;
}
