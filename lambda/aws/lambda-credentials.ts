/**
 * The AWS credentials of the deployed poller: Lambda puts its role's credentials in the
 * environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), so the bundle needs
 * nothing but `fromEnv`. esbuild substitutes this module for `@aws-sdk/credential-provider-node`
 * (the SDK's default chain: environment, SSO, INI files, `aws login`, web identity, process,
 * container and instance metadata, with their STS/SSO/sign-in clients) when it bundles the
 * Lambda — the `--alias` in POLLER_BUNDLING (infra/constructs/poller.ts). Nothing imports this
 * file by name: local runs and tests (tsx, not bundled) keep the SDK's full chain.
 * aws/endpoint.ts makes one provider per process and its signer asks it at every request: here
 * that is a read of three environment variables (the SDK's full chain memoizes what it found).
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

/** The stand-in for `@aws-sdk/credential-provider-node`'s `defaultProvider`: the environment only. */
export const defaultProvider = (init?: Parameters<typeof fromEnv>[0]) => fromEnv(init);
