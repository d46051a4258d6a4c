/**
 * Two vitest projects over one setup (the emulators start once per run: test/setup/emulators.ts):
 *   default  every test but the long chaos suite — `npm test` (the short chaos form included);
 *   chaos    test/chaos/**, the long reliability suite — `npm run chaos`, with its own long timeouts.
 */
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // DynamoDB Local, the SES emulator and the SNS emulator start once for the whole run.
    globalSetup: ['test/setup/emulators.ts'],
    setupFiles: ['test/setup/env.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores here: more workers only fight over them.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'default',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/chaos/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'chaos',
          include: ['test/chaos/**/*.test.ts'],
          // The whole suite runs in one beforeAll: 200 runs take minutes.
          hookTimeout: 30 * 60_000,
          testTimeout: 60_000,
        },
      },
    ],
  },
});
