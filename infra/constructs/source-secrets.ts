/**
 * Where the deployment's tokens live — each QR-menu source's access token and, when routes send to
 * Telegram, the bot's token: SSM Parameter Store SecureString parameters under the deployment's
 * path `/qrmenu-alerts/<deployment>/` (names.ts). Standard parameters cost nothing (a Secrets
 * Manager secret costs 0.40 USD a month each), are encrypted with the AWS managed aws/ssm key,
 * and hold one token each, so every restaurant's IT person puts only their own.
 * CloudFormation cannot create SecureString parameters, so this construct creates no resource:
 * the operator puts each token after the deploy (`aws ssm put-parameter --type SecureString`,
 * docs/DEPLOY.md section 4), and until then the poller reports the token as not there yet. A
 * source (or the bot) whose config names its own `token: { ssm }` or `token: { secret }` keeps it.
 * `grantRead` allows ssm:GetParameter on the deployment's path (one statement whatever the number
 * of sources: an inline role policy holds at most 10,240 characters), plus each parameter or
 * secret named elsewhere; the aws/ssm key lets any principal of the account that may read the
 * parameter decrypt it through SSM, so no KMS permission is needed.
 */
import { ArnFormat, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { TokenRef } from '../../lambda/config/schema';
import type { StoredTokenRef } from '../../lambda/config/tokens';
import { BOT_TOKEN_SEGMENT, botTokenParameterName, tokenParameterName, tokenParameterPath } from '../config/names';

export interface SourceTokensProps {
  readonly deploymentName: string;
  readonly sources: readonly { readonly id: string; readonly token?: TokenRef }[];
  /** Also the Telegram bot's token. @default false */
  readonly telegramBot?: boolean;
  /** The bot's token as the config names it. @default its parameter under the deployment's path */
  readonly botToken?: TokenRef;
}

export interface SourceToken {
  readonly sourceId: string;
  readonly ref: StoredTokenRef;
}

export class SourceTokens extends Construct {
  readonly tokens: readonly SourceToken[];
  /** The Telegram bot's token, when the config has a bot. */
  readonly bot?: StoredTokenRef;
  /** The deployment's parameter path, ending in "/". */
  readonly path: string;

  constructor(scope: Construct, id: string, props: SourceTokensProps) {
    super(scope, id);
    this.path = tokenParameterPath(props.deploymentName);
    if (props.telegramBot && props.sources.some((s) => s.id === BOT_TOKEN_SEGMENT))
      throw new Error(
        `a source may not be called "${BOT_TOKEN_SEGMENT}" while routes send to Telegram: its token would share the bot's parameter; rename the source`,
      );
    this.tokens = props.sources.map((source) => ({
      sourceId: source.id,
      ref: storedOrDefault(source.token, tokenParameterName(props.deploymentName, source.id)),
    }));
    if (props.telegramBot) this.bot = storedOrDefault(props.botToken, botTokenParameterName(props.deploymentName));
  }

  /** The reference the bundled config gives a source's token. */
  refOf(sourceId: string): StoredTokenRef {
    const found = this.tokens.find((t) => t.sourceId === sourceId);
    if (!found) throw new Error(`no token for source "${sourceId}"`);
    return found.ref;
  }

  /** ssm:GetParameter on the deployment's path (and named parameters), GetSecretValue on named secrets. */
  grantRead(grantee: iam.IGrantable): void {
    const stack = Stack.of(this);
    const refs = [...this.tokens.map((t) => t.ref), ...(this.bot ? [this.bot] : [])];
    const parameterArn = (name: string) =>
      stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.slice(1) });
    const parameters = refs.flatMap((ref) => ('ssm' in ref ? [ref.ssm] : []));
    const elsewhere = [...new Set(parameters.filter((name) => !name.startsWith(this.path)))];
    const resources = [
      ...(parameters.length > elsewhere.length ? [parameterArn(`${this.path}*`)] : []),
      ...elsewhere.map(parameterArn),
    ];
    if (resources.length > 0) {
      iam.Grant.addToPrincipal({ grantee, actions: ['ssm:GetParameter'], resourceArns: resources });
      const role = grantee.grantPrincipal;
      if (parameters.length > elsewhere.length && role instanceof Construct) {
        // cdk-nag names the resource as it renders it: pseudo parameters, or the account and region the config pins.
        const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
        const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
        Validations.of(role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:${region}:${account}:parameter${this.path}*]`,
          reason:
            "ssm:GetParameter on this deployment's own parameter path only (its tokens, one per source): one statement whatever the number of sources, since 500 parameter ARNs would not fit the role's 10,240-character inline policy.",
        });
      }
    }
    const secrets = [...new Set(refs.flatMap((ref) => ('secret' in ref ? [ref.secret] : [])))];
    if (secrets.length > 0) {
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['secretsmanager:GetSecretValue'],
        resourceArns: secrets.map((name) =>
          name.startsWith('arn:')
            ? name
            : stack.formatArn({
                service: 'secretsmanager',
                resource: 'secret',
                // Secrets Manager appends "-" and six random characters to every secret's ARN.
                resourceName: `${name}-??????`,
                arnFormat: ArnFormat.COLON_RESOURCE_NAME,
              }),
        ),
      });
    }
  }
}

/** A token the config keeps in AWS stays where it says; any other (env, value, none) gets its parameter. */
function storedOrDefault(ref: TokenRef | undefined, parameterName: string): StoredTokenRef {
  if (ref !== undefined && 'ssm' in ref) return { ssm: ref.ssm };
  if (ref !== undefined && 'secret' in ref) return { secret: ref.secret };
  return { ssm: parameterName };
}
