/**
 * Names the stack gives things, derived from the deployment name so that two deployments
 * (`name: pizzeria`, `name: cafe`) live side by side in one account and region.
 * Token parameter names are fixed strings (not ARNs) because the Lambda's bundled config must
 * name them at synth time, when ARNs are still unresolved tokens.
 */

/** Prefix of every named resource: `qrmenu-alerts-<deployment>`. */
export function resourcePrefix(deploymentName: string): string {
  return `qrmenu-alerts-${deploymentName}`;
}

/** CloudFormation stack name: `QrmenuAlerts-<deployment>`. */
export function stackName(deploymentName: string): string {
  return `QrmenuAlerts-${deploymentName}`;
}

/** The SSM parameter path under which every token of a deployment lives (ends in "/"). */
export function tokenParameterPath(deploymentName: string): string {
  return `/qrmenu-alerts/${deploymentName}/`;
}

/** The SSM SecureString parameter that holds a source's token. */
export function tokenParameterName(deploymentName: string, sourceId: string): string {
  return `${tokenParameterPath(deploymentName)}${sourceId}/token`;
}

/** The path segment of the bot's token: a source may not have this id while the deployment has a bot. */
export const BOT_TOKEN_SEGMENT = 'telegram-bot';

/** The Telegram bot token's parameter (one bot per deployment). */
export function botTokenParameterName(deploymentName: string): string {
  return `${tokenParameterPath(deploymentName)}${BOT_TOKEN_SEGMENT}/token`;
}

/**
 * CloudWatch alarm names start with this, so that the ops topic can trust exactly these alarms.
 * "." appears in no deployment name or source id: `qrmenu-alerts-a.b-c.no-poll` (deployment "a",
 * source "b-c") can never be an alarm of deployment "a-b".
 */
export function alarmNamePrefix(deploymentName: string): string {
  return `${resourcePrefix(deploymentName)}.`;
}

/** `qrmenu-alerts-<deployment>.<source>.<what>`, or `qrmenu-alerts-<deployment>.<what>` for the whole poller. */
export function alarmName(deploymentName: string, what: string, sourceId?: string): string {
  return `${alarmNamePrefix(deploymentName)}${sourceId === undefined ? '' : `${sourceId}.`}${what}`;
}

/** A CloudFormation logical id fragment from an id that may hold "-" ("pizza-1" → "Pizza1"). */
export function logicalIdPart(id: string): string {
  return id
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}
