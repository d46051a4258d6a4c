/**
 * The simulator's errors, one named class per thing a caller can get wrong. The control endpoints
 * (`/_sim/…`) turn each of them into an HTTP 400 with the message; programmatic callers get the
 * error thrown. All extend `SimulatorError` so a test can catch "anything the simulator refused".
 */

/** Base class of every error the simulator throws on purpose. */
export class SimulatorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** `createSimulator()` options (or a setter's argument) that make no sense. */
export class SimulatorOptionsError extends SimulatorError {}

/** An event given to `inject()` (or `POST /_sim/events`) that cannot become an event. */
export class InvalidEventInputError extends SimulatorError {}

/** `inject({ hash })` with a hash that an event still in the queue already has. */
export class DuplicateHashError extends SimulatorError {
  constructor(readonly hash: string) {
    super(`an event with hash ${hash} is already in the queue (use { raw: true } to queue a duplicate on purpose)`);
  }
}

/** A fault (or fault settings) given to `setFaults()`, `failNext()` or their endpoints that is not valid. */
export class InvalidFaultError extends SimulatorError {}

/** A control request (`/_sim/…`) whose body is not what the endpoint takes. */
export class ControlRequestError extends SimulatorError {}

/** Turns zod issues into one line: `count: Too big: expected number to be <=1000; code: …`. */
export function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}
