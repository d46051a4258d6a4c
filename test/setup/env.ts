/**
 * Runs in every test worker before the test file: points the AWS SDK at the emulators that the
 * global setup started (through AWS_ENDPOINT_URL_*: the code under test needs no change).
 */
import { inject } from 'vitest';
import { emulatorEnvironment } from '../../local/emulators';

Object.assign(process.env, emulatorEnvironment(inject('emulators')));
