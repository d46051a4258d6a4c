import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // DynamoDB Local, the SES emulator and the SNS emulator start once for the whole run.
    globalSetup: ['test/setup/emulators.ts'],
    setupFiles: ['test/setup/env.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores here: more workers only fight over them.
    maxWorkers: 2,
  },
});
