/**
 * One Secrets Manager secret per QR-menu source, holding that server's access token, and one for
 * the Telegram bot's token when routes send to Telegram.
 * The template never holds the token: CloudFormation fills each new secret with a random
 * placeholder (which the server will reject, so the auth alarm tells the operator the token is
 * still missing), and the operator puts the real one with `aws secretsmanager put-secret-value`.
 * Each secret has a fixed name (names.ts) because the Lambda's bundled config names it at synth
 * time. `grantRead` allows GetSecretValue on exactly these secrets.
 */
import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { sourceName, type SourceConfig } from '../../lambda/config/schema';
import { botTokenSecretName, tokenSecretName } from '../config/names';

export interface SourceSecretsProps {
  readonly deploymentName: string;
  readonly sources: readonly Pick<SourceConfig, 'id' | 'name' | 'url'>[];
  /** Also a secret for the Telegram bot's token. @default false */
  readonly telegramBot?: boolean;
}

export interface SourceSecret {
  readonly sourceId: string;
  readonly secretName: string;
  readonly secret: secretsmanager.Secret;
}

export class SourceSecrets extends Construct {
  readonly secrets: readonly SourceSecret[];
  /** The Telegram bot's token, when the config has a bot. */
  readonly bot?: { readonly secretName: string; readonly secret: secretsmanager.Secret };

  constructor(scope: Construct, id: string, props: SourceSecretsProps) {
    super(scope, id);
    this.secrets = props.sources.map((source) => {
      const secretName = tokenSecretName(props.deploymentName, source.id);
      const secret = new secretsmanager.Secret(this, source.id, {
        secretName,
        description: `Access token ("Secret key") of the QR-menu server ${sourceName(source)} at ${source.url}`,
        // A random placeholder, so that nothing secret is in the template; replaced by put-secret-value.
        generateSecretString: { passwordLength: 32, excludePunctuation: true },
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'The token is issued by the QR-menu server admin page, which AWS cannot change, so Secrets Manager rotation cannot rotate it; the operator replaces it with put-secret-value.',
      });
      return { sourceId: source.id, secretName, secret };
    });
    if (props.telegramBot) {
      const secretName = botTokenSecretName(props.deploymentName);
      const secret = new secretsmanager.Secret(this, 'TelegramBot', {
        secretName,
        description: 'Token of the Telegram bot that sends the alerts (from BotFather, docs/DEPLOY.md)',
        generateSecretString: { passwordLength: 32, excludePunctuation: true },
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          "The bot token is issued by Telegram's BotFather, which AWS cannot call, so Secrets Manager rotation cannot rotate it; the operator replaces it with put-secret-value.",
      });
      this.bot = { secretName, secret };
    }
  }

  /** The secret name of a source (what the bundled config's `token.secret` says). */
  nameOf(sourceId: string): string {
    const found = this.secrets.find((s) => s.sourceId === sourceId);
    if (!found) throw new Error(`no secret for source "${sourceId}"`);
    return found.secretName;
  }

  /** secretsmanager:GetSecretValue on these secrets only (the Lambda reads, never describes or writes). */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [...this.secrets.map((s) => s.secret.secretArn), ...(this.bot ? [this.bot.secret.secretArn] : [])],
    });
  }
}
