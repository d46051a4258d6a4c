/**
 * The credentials the Lambda's bundle resolves (lambda/aws/lambda-credentials.ts, substituted for
 * the SDK's default chain by esbuild): the role's keys from the environment, as Lambda sets them,
 * and a clear refusal when they are not there. test/infra/bundle.test.ts checks the substitution.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { defaultProvider } from '../../lambda/aws/lambda-credentials';

const NAMES = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const;
const saved = Object.fromEntries(NAMES.map((name) => [name, process.env[name]]));

afterEach(() => {
  for (const name of NAMES) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

describe("the Lambda bundle's credential provider", () => {
  it("reads the role's keys and session token from the environment", async () => {
    process.env.AWS_ACCESS_KEY_ID = 'ASIAEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret-example';
    process.env.AWS_SESSION_TOKEN = 'session-example';
    await expect(defaultProvider()()).resolves.toMatchObject({
      accessKeyId: 'ASIAEXAMPLE',
      secretAccessKey: 'secret-example',
      sessionToken: 'session-example',
    });
  });

  it("fails with the SDK's own error when the environment holds no keys, and asks nothing else", async () => {
    for (const name of NAMES) delete process.env[name];
    await expect(defaultProvider()()).rejects.toThrow(/Unable to find environment variable credentials/);
  });
});
