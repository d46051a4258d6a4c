/**
 * Vitest global setup: starts the real protocol peers once on loopback and hands their endpoints
 * to every test file through `inject('emulators')` (see env.ts, which points the AWS SDK at them).
 * The Telegram Bot API stand-in is `inject('emulators').telegram` (the channel's `apiRoot`).
 * Nothing needs to be installed beyond Node, npm and Java 17.
 */
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal, startSesEmulator, startSnsEmulator, startTelegramEmulator } from '../../local/emulators';

declare module 'vitest' {
  export interface ProvidedContext {
    emulators: { dynamodb: string; ses: string; sns: string; telegram: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [dynamodb, ses, sns, telegram] = await Promise.all([
    startDynamoDbLocal(),
    startSesEmulator(),
    startSnsEmulator(),
    startTelegramEmulator(),
  ]);
  project.provide('emulators', {
    dynamodb: dynamodb.endpoint,
    ses: ses.endpoint,
    sns: sns.endpoint,
    telegram: telegram.endpoint,
  });
  return async () => {
    await Promise.all([dynamodb.stop(), ses.stop(), sns.stop(), telegram.stop()]);
  };
}
