/**
 * Where each source's token comes from: Secrets Manager in AWS (through Powertools Parameters,
 * cached for `maxAgeSeconds`, so a changed token takes effect within minutes without a deploy),
 * an environment variable or the config itself locally. Every token read is registered with the
 * log redaction before anything else sees it.
 */
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { awsClientConfig } from '../aws/clients';
import { registerSecret } from '../obs/telemetry';
import { TokenUnavailableError } from '../qrmenu/errors';
import type { SourceConfig } from './schema';

/** The token reference a source gets when its config names none. */
export const DEFAULT_TOKEN_ENV = 'QRMENU_TOKEN';

export interface TokenResolverOptions {
  /** Cache of secret values, in seconds. Default 300. */
  readonly maxAgeSeconds?: number;
  /** Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

/** One provider (and its cache) for every source; timeouts as every other client of the poller. */
let provider: SecretsProvider | undefined;

export function tokenResolver(
  source: Pick<SourceConfig, 'id' | 'token'>,
  options: TokenResolverOptions = {},
): () => Promise<string> {
  const ref = source.token ?? { env: DEFAULT_TOKEN_ENV };
  const env = options.env ?? process.env;
  return async () => {
    let token: string | undefined;
    if ('value' in ref) token = ref.value;
    else if ('env' in ref) {
      token = env[ref.env];
      if (!token)
        throw new TokenUnavailableError(
          'unset',
          `the token of source "${source.id}" is not set: put it in the environment variable ${ref.env}`,
        );
    } else {
      try {
        provider ??= new SecretsProvider({ clientConfig: awsClientConfig() });
        const value = await provider.get(ref.secret, { maxAge: options.maxAgeSeconds ?? 300 });
        token = typeof value === 'string' ? value : undefined;
      } catch (error) {
        throw new TokenUnavailableError(
          'unreadable',
          `the token of source "${source.id}" could not be read from Secrets Manager (${ref.secret}): ` +
            `${error instanceof Error ? error.message : String(error)}. The QR-menu server was not asked, so this is ` +
            'not a rejected token: check that Secrets Manager is reachable, the secret exists and the poller may read it',
        );
      }
      if (typeof token !== 'string' || token.trim() === '') {
        throw new TokenUnavailableError(
          'empty',
          `the secret ${ref.secret} holds no token yet: aws secretsmanager put-secret-value --secret-id ${ref.secret} --secret-string file://token.txt`,
        );
      }
    }
    token = token.trim();
    registerSecret(token);
    return token;
  };
}
