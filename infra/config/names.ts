/**
 * Names the stack gives things, derived from the deployment name so that two deployments
 * (`name: pizzeria`, `name: cafe`) live side by side in one account and region.
 * Secret names are fixed strings (not ARNs) because the Lambda's bundled config must name its
 * secrets at synth time, when ARNs are still unresolved tokens.
 */

/** Prefix of every named resource: `qrmenu-alerts-<deployment>`. */
export function resourcePrefix(deploymentName: string): string {
  return `qrmenu-alerts-${deploymentName}`;
}

/** CloudFormation stack name: `QrmenuAlerts-<deployment>`. */
export function stackName(deploymentName: string): string {
  return `QrmenuAlerts-${deploymentName}`;
}

/** The Secrets Manager secret that holds a source's token. */
export function tokenSecretName(deploymentName: string, sourceId: string): string {
  return `qrmenu-alerts/${deploymentName}/${sourceId}/token`;
}

/** The Telegram bot token's secret (one bot per deployment). */
export function botTokenSecretName(deploymentName: string): string {
  return `qrmenu-alerts/${deploymentName}/telegram-bot/token`;
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
