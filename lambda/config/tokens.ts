/**
 * Where each source's token comes from: in AWS an SSM Parameter Store SecureString parameter
 * (the stack's default: a standard parameter costs nothing, is KMS-encrypted with the AWS managed
 * aws/ssm key, and is put after deploy with `aws ssm put-parameter`) or, still accepted, a Secrets
 * Manager secret — each read with one signed call (aws/json-call.ts) and cached for
 * `maxAgeSeconds`, so a changed token takes effect within minutes without a deploy; locally an
 * environment variable or the config itself. Every token read is registered with the log
 * redaction before anything else sees it. `readStoredToken` is shared with the Telegram bot
 * token's reader.
 */
import { AwsCallError, jsonCall, SECRETS_MANAGER, SSM } from '../aws/json-call';
import { registerSecret } from '../obs/telemetry';
import { TokenUnavailableError } from '../qrmenu/errors';
import { SECRET_CACHE_SECONDS } from './runtime';
import type { SourceConfig } from './schema';

/** The token reference a source gets when its config names none. */
export const DEFAULT_TOKEN_ENV = 'QRMENU_TOKEN';

/** A token kept in AWS. */
export type StoredTokenRef = { readonly ssm: string } | { readonly secret: string };

/** Where a stored token lives, for messages: "the SSM parameter /a/b" or "the secret a/b". */
export function storeOf(ref: StoredTokenRef): { readonly service: string; readonly name: string } {
  return 'ssm' in ref
    ? { service: 'SSM Parameter Store', name: ref.ssm }
    : { service: 'Secrets Manager', name: ref.secret };
}

/** The command that puts a token into its store, reading it from a file (never the command line). */
export function putTokenCommand(ref: StoredTokenRef, file: string): string {
  return 'ssm' in ref
    ? `aws ssm put-parameter --name ${ref.ssm} --type SecureString --overwrite --value file://${file}`
    : `aws secretsmanager put-secret-value --secret-id ${ref.secret} --secret-string file://${file}`;
}

/** The SSM parameter that should hold the token does not exist: nobody has put it yet. */
export class StoredTokenMissing extends Error {
  override readonly name = 'StoredTokenMissing';
}

/**
 * Reads a stored value from its store, uncached: what the store holds (undefined when it holds
 * no string), StoredTokenMissing when the parameter does not exist, the store's error otherwise.
 */
export type StoredValueRead = (ref: StoredTokenRef) => Promise<string | undefined>;

/** The read in AWS: SSM `GetParameter` (decrypted) or Secrets Manager `GetSecretValue`. */
export const readFromAws: StoredValueRead = async (ref) => {
  if ('ssm' in ref) {
    try {
      const answer = await jsonCall(SSM, 'GetParameter', { Name: ref.ssm, WithDecryption: true });
      const value = (answer.Parameter as { Value?: unknown } | undefined)?.Value;
      return typeof value === 'string' ? value : undefined;
    } catch (error) {
      if (error instanceof AwsCallError && error.name === 'ParameterNotFound')
        throw new StoredTokenMissing(`${ref.ssm} does not exist yet`);
      throw error;
    }
  }
  const answer = await jsonCall(SECRETS_MANAGER, 'GetSecretValue', { SecretId: ref.secret });
  return typeof answer.SecretString === 'string' ? answer.SecretString : undefined;
};

/** Values read, per store and name, until when they may be used (one cache per process, for every token). */
const cache = new Map<string, { readonly value: string; readonly until: number }>();

/**
 * The token's current value, trimmed; undefined when the store holds nothing usable (an empty
 * secret). A non-empty value is cached for `maxAgeSeconds`. Throws StoredTokenMissing when the
 * parameter does not exist yet, and the store's own error when it cannot be read (unreachable,
 * throttled, denied).
 */
export async function readStoredToken(
  ref: StoredTokenRef,
  maxAgeSeconds: number,
  read: StoredValueRead = readFromAws,
): Promise<string | undefined> {
  const key = 'ssm' in ref ? `ssm:${ref.ssm}` : `secret:${ref.secret}`;
  const cached = cache.get(key);
  if (cached && Date.now() < cached.until) return cached.value;
  const value = await read(ref);
  const token = typeof value === 'string' ? value.trim() : '';
  if (token === '') return undefined;
  cache.set(key, { value: token, until: Date.now() + maxAgeSeconds * 1000 });
  return token;
}

/** Forgets every cached value (tests). */
export function clearStoredTokenCache(): void {
  cache.clear();
}

export interface TokenResolverOptions {
  /** Cache of stored values, in seconds. Default 300. */
  readonly maxAgeSeconds?: number;
  /** Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

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
      const { service, name } = storeOf(ref);
      const empty = () =>
        new TokenUnavailableError(
          'empty',
          `${service} holds no token for source "${source.id}" yet (${name}): ${putTokenCommand(ref, 'token.txt')}`,
        );
      try {
        token = await readStoredToken(ref, options.maxAgeSeconds ?? SECRET_CACHE_SECONDS);
      } catch (error) {
        if (error instanceof StoredTokenMissing) throw empty();
        throw new TokenUnavailableError(
          'unreadable',
          `the token of source "${source.id}" could not be read from ${service} (${name}): ` +
            `${error instanceof Error ? error.message : String(error)}. The QR-menu server was not asked, so this is ` +
            `not a rejected token: check that ${service} is reachable, the token is there and the poller may read it`,
        );
      }
      if (token === undefined) throw empty();
    }
    token = token.trim();
    registerSecret(token);
    return token;
  };
}
