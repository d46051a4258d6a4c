/**
 * Product misbehaviours the chaos suite found. KNOWN_FINDINGS are the ones not fixed yet: each is a
 * failure the judge reports as it is — the runs still fail and count as failed in the verdict —
 * but named, so a run line says which known finding a failure is and which failures are new.
 * FIXED_FINDINGS are the ones since fixed: their reproducing seeds run in
 * test/integration/chaos-short.test.ts as regressions that must pass.
 */
import { failureTexts, type RunKind, type RunOutcome } from './lib/verdict';

export interface KnownFinding {
  readonly id: string;
  readonly kind: RunKind;
  /** What the product does wrong, in one line. */
  readonly title: string;
  /** Matches the judge's text of a failure it causes. */
  readonly pattern: RegExp;
  /** A seed of the kind (long form, this suite's schedule) that reproduces it. */
  readonly seed: number;
}

/** None open: the ones the suite found (2026-12-01/02) are fixed, see FIXED_FINDINGS. */
export const KNOWN_FINDINGS: readonly KnownFinding[] = [];

/** Found by this suite and fixed; their seeds are regression runs in the short form. */
export const FIXED_FINDINGS: readonly KnownFinding[] = [
  {
    id: 'F1',
    kind: 'short-retention',
    title:
      'an absence longer than the real retention but not longer than the learnt bound (real + one interval) is not reported as a PossibleGap: calls queued just after the last poll expire unseen, silently',
    pattern: /reported no PossibleGap/,
    seed: 1019,
  },
  {
    id: 'F2',
    kind: 'short-retention',
    title:
      "after an absence the learnt retention drops below the server's real one (40 s for 60 s): an event first seen after the absence is taken to have been queued at most an interval before",
    pattern: /the poller learnt a retention of \d+ s, below the server's/,
    seed: 1001,
  },
  {
    id: 'F3',
    kind: 'counter-hashes',
    title:
      'a hash first recorded from a cursor answer (not in the last complete answer) is never marked gone when it vanishes or the queue is reset: its reissue with the same code and table is dropped as a repeat, and the mistaken ages inflate the learnt longest-kept age',
    pattern: /(missing from the complete answer|\(a reset\)|longer than the server keeps events)[^;]*: new by the rule/,
    seed: 1006,
  },
  {
    id: 'F5',
    kind: 'counter-hashes',
    title:
      'a reset found by a complete answer marks every hash known to be queued as gone, also those a cursor answer showed after the last complete answer (maybe after the reset): the event queued now under such a hash is claimed again as new and sent twice',
    pattern: /claimed again as a new event/,
    seed: 1164,
  },
  {
    id: 'F6',
    kind: 'staff-loop',
    title:
      'an escalation step claimed before the acknowledgement is sent later anyway: a step whose send failed (retry) or whose poller died after claiming it is taken over without looking at the acknowledgement, and goes to the manager although someone already came',
    pattern: /went out after the call was acknowledged/,
    seed: 1007,
  },
];

/** Which known findings a run's failures are, and the failures no finding explains. */
export function classifyFailures(o: RunOutcome): {
  readonly known: readonly string[];
  readonly unknown: readonly string[];
} {
  const known = new Set<string>();
  const unknown: string[] = [];
  for (const text of failureTexts(o)) {
    const finding = KNOWN_FINDINGS.find((f) => f.kind === o.kind && f.pattern.test(text));
    if (finding) known.add(finding.id);
    else unknown.push(text);
  }
  return { known: [...known].sort(), unknown };
}
