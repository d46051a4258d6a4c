/**
 * The QR-menu simulator: a stand-in for a restaurant's QR-menu server, for the poller's
 * integration tests, `npm start`, benchmarks and anyone integrating. Start one with
 * `createSimulator()` (or `npm run simulator` for the CLI); see server.ts for the behaviour,
 * control.ts for the `/_sim/` endpoints, faults.ts for the faults.
 */
export { createSimulator, EVENTS_PATH } from './server';
export type { Simulator, SimulatorOptions, ServedRecord, ServedKind, RestartOptions } from './types';
export type { SimEvent, GeneratedSimEvent, RawSimEvent } from './queue';
export type { SimEventInput, WireEvent, WireTable, SimInvoice, SimOrder, SimDish, SimTable } from './events';
export { TABLES, CODE_MIX, UNKNOWN_CODES } from './events';
export type { Faults, OneShotFault, OneShotFaultName, CustomFault } from './faults';
export { NO_FAULTS, ONE_SHOT_FAULTS } from './faults';
export type { UnknownHashMode } from './selection';
export type { AuthFailureStyle } from './responses';
export { GIANT_PADDING_BYTES } from './responses';
export { HASH_PATTERN, type HashStyle } from './hashes';
export { CONTROL_HELP } from './control';
export { selfSignedIdentity, fingerprintOf, type TlsIdentity } from './tls';
export {
  SimulatorError,
  SimulatorOptionsError,
  InvalidEventInputError,
  DuplicateHashError,
  InvalidFaultError,
  ControlRequestError,
} from './errors';
