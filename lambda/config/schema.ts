/**
 * The one config schema of a qrmenu-alerts deployment: sources, routes, recipients, intervals,
 * locale. The CDK app validates it at synth time (with an `aws` section added, see infra/config.ts)
 * and seals what passed for the Lambda, which opens it without zod (lambda/config/sealed.ts); the
 * local runner validates the same file. The helpers that need no zod live in settings.ts.
 * Every default is written next to its field; `parseAlertsConfig` turns zod issues into
 * one message per problem that names the field (`routes[2].tables[0]: "1-x" is not a table range`).
 */
import * as z from 'zod';
import { FilterPolicyLimitError, smsSubscriptions } from '../core/routing';
import { parseTableSelector, TableSelectorError } from '../core/tables';
import type { TlsOptions } from '../qrmenu/http';
import { OpeningHoursError, parseOpeningHours } from '../core/hours';
import { ConfigError, TELEGRAM_DEFAULTS } from './settings';

export { ConfigError, recordTtlSeconds, sourceName, TELEGRAM_DEFAULTS, usesTelegram } from './settings';
import { ShardError, shardsOf } from './shards';

export const SOURCE_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;
const E164 = /^\+[1-9]\d{6,14}$/;
const FINGERPRINT_256 = /^([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$/;

/**
 * Where a source's token comes from. Deployed configs use `ssm` (the CDK app's default) or
 * `secret` (still accepted); local runs use `env` or `value`.
 */
export const TokenRefSchema = z.union([
  z.strictObject({
    ssm: z
      .string()
      .regex(/^(\/[A-Za-z0-9_.-]+){2,15}$/, 'must be an SSM parameter name like "/qrmenu-alerts/lenina/lenina/token"')
      .describe('SSM Parameter Store SecureString parameter holding the token'),
  }),
  z.strictObject({ secret: z.string().min(1).describe('Secrets Manager secret name or ARN holding the token') }),
  z.strictObject({
    env: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/)
      .describe('environment variable holding the token'),
  }),
  z.strictObject({ value: z.string().min(1).describe('the token itself: for tests and local runs only') }),
]);
export type TokenRef = z.infer<typeof TokenRefSchema>;

/** TLS pinning for servers with a self-signed certificate. Verification is never switched off. */
export const TlsSchema = z.strictObject({
  /** PEM of the server's certificate (self-signed) or of the CA that issued it. */
  caPem: z.string().includes('-----BEGIN CERTIFICATE-----', { message: 'must be a PEM certificate' }).optional(),
  /** SHA-256 fingerprint of the server certificate, hex with or without colons (what `doctor` prints). */
  fingerprint256: z.string().regex(FINGERPRINT_256, 'must be 32 hex bytes, e.g. "AB:CD:…"').optional(),
}) satisfies z.ZodType<TlsOptions>;

export const SourceSchema = z.strictObject({
  /** Short stable id: keys all state in DynamoDB. Renaming it starts the source afresh. */
  id: z.string().regex(SOURCE_ID, 'use lowercase letters, digits and "-" (at most 32)'),
  /** What staff call the place ("Пиццерия на Ленина"). Default: the id. */
  name: z.string().min(1).max(60).optional(),
  /** Base URL of the QR-menu server, e.g. https://203.0.113.10:8443 (http:// only with `allowPlainHttp`). */
  url: z.url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' }),
  /**
   * Allow an http:// `url`: the token then crosses the network unencrypted (the poller warns at
   * every cold start). For a server that offers no TLS at all, on a VPN; and for local simulators.
   */
  allowPlainHttp: z.boolean().default(false),
  tls: TlsSchema.optional(),
  /** Default: `{ env: "QRMENU_TOKEN" }` locally; the CDK app replaces it with the source's secret. */
  token: TokenRefSchema.optional(),
  /**
   * When staff are paged, in the deployment's time zone: `{ "mon-fri": "10:00-23:00", sun: "closed" }`
   * ("18:00-02:00" runs past midnight). Outside them events are recorded but only `always` routes
   * page. Default: always open.
   */
  openingHours: z.record(z.string(), z.union([z.string(), z.array(z.string()).min(1)])).optional(),
  /**
   * Pin the source to this shard (one scheduled invocation polls each shard; see config/shards.ts).
   * Default: the shards fill in config order, `polling.sourcesPerShard` each.
   */
  shard: z.number().int().min(0).max(99).optional(),
});
export type SourceConfig = z.infer<typeof SourceSchema>;

export const RouteSchema = z.strictObject({
  /** Unique name; appears in logs and in the SNS subscription's filter policy documentation. */
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, 'use letters, digits, "_", "." and "-" (at most 40)'),
  /** Event codes this route takes (e.g. ["waiter_call"]). Default: every code, unknown ones too. */
  codes: z.array(z.string().min(1)).min(1).optional(),
  /** Source ids this route takes. Default: every source. */
  sources: z.array(z.string()).min(1).optional(),
  /** Table names ("6"), ranges ("1-10") or zone names ("terrace"). Default: every table. */
  tables: z.array(z.string()).min(1).optional(),
  /** E-mail recipients (SES). */
  email: z.array(z.email()).default([]),
  /** SMS recipients in E.164 form (+79161234567); each becomes an SNS SMS subscription. */
  sms: z.array(z.string().regex(E164, 'must be a phone number in E.164 form, e.g. +79161234567')).default([]),
  /** Telegram chats: a hall's group (-1001234567890), a person (123456789) or a channel ("@name"). */
  telegram: z
    .array(
      z.union([
        z
          .number()
          .int()
          .refine((n) => n !== 0 && Number.isSafeInteger(n), 'is not a Telegram chat id'),
        z.string().regex(/^@[A-Za-z][A-Za-z0-9_]{4,31}$/, 'must be a chat id number or a channel name like "@hall"'),
      ]),
    )
    .default([]),
  /**
   * An attendance call nobody acknowledged within `afterSeconds` (from when it was first seen) is
   * sent again, marked unanswered, to the route `to` — then to the next step's route, and so on.
   */
  escalate: z
    .array(z.strictObject({ afterSeconds: z.number().int().min(30).max(7_200), to: z.string() }))
    .max(5)
    .default([]),
  /** Page outside the source's opening hours too (the manager's route, say). */
  always: z.boolean().default(false),
  /** This route hears only the calls escalated to it (a manager who wants only the unanswered ones). */
  escalationOnly: z.boolean().default(false),
});
export type RouteConfig = z.infer<typeof RouteSchema>;

export const PollingSchema = z.strictObject({
  /**
   * Seconds between polls inside one invocation (decimals allowed); 60 = one poll per scheduled
   * run. Default 1.75: a call waits for the next poll up to one interval, so the p95 from the
   * guest's tap to the send is ≈ 0.95 interval + the tick's work (≈ 0.15 s) — at 2 s that is
   * 2.05 s, past the 2-s goal; at 1.75 s ≈ 1.8 s, with a 25-source shard still inside the CPU
   * a 128 MB function gets.
   */
  intervalSeconds: z.number().min(1).max(60).default(1.75),
  /** How long the server keeps events (documented default 300 s). */
  retentionSeconds: z.number().int().min(30).max(86_400).default(300),
  /**
   * Poll with `hash=none` at least this often, in case the server forgot our cursor. With
   * `intervalSeconds` it must stay below `retentionSeconds`, or an event could expire between two looks.
   */
  reconcileSeconds: z.number().int().min(5).max(3_600).default(30),
  /** Timeout of one HTTP request to the QR-menu server. */
  requestTimeoutMs: z.number().int().min(200).max(30_000).default(4_000),
  /** Answers larger than this are rejected (protects a 128 MB Lambda). */
  maxResponseBytes: z
    .number()
    .int()
    .min(1_024)
    .max(16 * 1_048_576)
    .default(1_048_576),
  /** Retries of one poll on unreachable/5xx, with exponential backoff and jitter. */
  retries: z.number().int().min(0).max(5).default(2),
  /** Sources polled at the same time. */
  concurrency: z.number().int().min(1).max(32).default(4),
  /** On the very first poll of a source, deliver what is already queued instead of recording it as seen. */
  deliverBacklog: z.boolean().default(false),
  /**
   * Sources one invocation polls: more sources make more shards, each its own schedule and its own
   * concurrent invocation (config/shards.ts). 25 keeps one 128 MB invocation's share of a vCPU
   * ahead of 14.3 polls a second at 1.75-s polling (see docs/DEPLOY.md).
   */
  sourcesPerShard: z.number().int().min(1).max(500).default(25),
});

export const DeliverySchema = z.strictObject({
  /** Repeats of one code from one table within this many seconds are recorded as suppressed, not sent. 0 = off. */
  cooldownSeconds: z.number().int().min(0).max(3_600).default(60),
  /**
   * Delivery attempts of one event at most. Delivery gives up at whichever comes first: this many
   * attempts, or `retryForSeconds` after the event was first seen (a permanent error gives up at once).
   */
  maxAttempts: z.number().int().min(1).max(50).default(20),
  /**
   * Transient and throttled delivery failures (an SES or SNS outage) keep being retried this long
   * after the event was first seen, with capped backoff; then the event is marked failed.
   */
  retryForSeconds: z.number().int().min(60).max(3_600).default(600),
  /** A claim not marked within this many seconds is taken to be a crash and retried. */
  claimTimeoutSeconds: z.number().int().min(10).max(900).default(30),
  /**
   * Event records live this long (DynamoDB TTL). At least 2 × `polling.retentionSeconds`, and at least
   * `retryForSeconds` + 2 × `polling.retentionSeconds` + `claimTimeoutSeconds` (the whole retry schedule):
   * a record must not expire while its event is retried or can still be seen in the server's queue.
   */
  recordTtlSeconds: z
    .number()
    .int()
    .min(600)
    .max(30 * 86_400)
    .default(3_600),
  /** Events delivered at the same time. */
  concurrency: z.number().int().min(1).max(64).default(8),
  /**
   * The account's SES maximum send rate (recipients per second; a new production account has 14).
   * E-mails are paced to it, each SendEmail counting its recipients; several shards share it: an
   * own share each and a pool in the state table (notify/pacing/shared-pacer.ts).
   */
  sesPerSecond: z.number().min(0.1).max(10_000).default(14),
  /**
   * SMS per second SNS may send for the account (the SMS MPS quota of its origination identity).
   * Publishes are paced to it, each counting the phones it reaches (at least 1); shared like `sesPerSecond`.
   */
  snsPerSecond: z.number().min(0.1).max(10_000).default(20),
});

export const TelegramSchema = z.strictObject({
  /** The bot token: an SSM SecureString parameter in AWS (the CDK app sets it), an env variable locally. */
  token: TokenRefSchema.default(() => ({ ...TELEGRAM_DEFAULTS.token })),
  /** Codes whose alert carries an "On my way" button and is escalated until someone presses it. */
  acknowledgeCodes: z.array(z.string().min(1)).default(() => [...TELEGRAM_DEFAULTS.acknowledgeCodes]),
  /** The Bot API's address (an emulator locally). Default: https://api.telegram.org. */
  apiRoot: z.url({ protocol: /^https?$/ }).optional(),
});

export const ReportSchema = z.strictObject({
  /** Who gets the daily report (SES). */
  to: z.array(z.email()).min(1),
  /** Local time (the config's time zone) at which the report for the day before is sent. */
  at: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time like "09:00"')
    .default('09:00'),
  /** Days the records the report reads are kept (DynamoDB TTL). */
  keepDays: z.number().int().min(2).max(400).default(31),
});

export const EmailSchema = z.strictObject({
  /** A sender verified in SES ("Alerts <alerts@example.com>" or "alerts@example.com"). */
  from: z.string().min(3),
  replyTo: z.array(z.email()).optional(),
});

export const AlertsConfigSchema = z
  .strictObject({
    /** Deployment name: part of resource names. */
    name: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,23}$/, 'use lowercase letters, digits and "-", starting with a letter (at most 24)')
      .default('default'),
    /** Language of every message. */
    locale: z.enum(['ru', 'en']).default('ru'),
    /** Time zone for times printed in e-mails. */
    timeZone: z.string().refine(isTimeZone, 'is not an IANA time zone (e.g. "Europe/Moscow")').default('Europe/Moscow'),
    sources: z.array(SourceSchema).min(1, 'list at least one QR-menu server'),
    /** Named groups of tables: { "terrace": ["20-29"], "bar": ["Bar-1", "Bar-2"] }. */
    zones: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,31}$/), z.array(z.string()).min(1)).default({}),
    routes: z.array(RouteSchema).default([]),
    email: EmailSchema.optional(),
    polling: PollingSchema.default(PollingSchema.parse({})),
    delivery: DeliverySchema.default(DeliverySchema.parse({})),
    /** The Telegram bot (needed when a route lists Telegram chats). */
    telegram: TelegramSchema.optional(),
    /** The manager's daily report. */
    report: ReportSchema.optional(),
  })
  .superRefine((config, ctx) => {
    const ids = new Set<string>();
    config.sources.forEach((s, i) => {
      if (s.openingHours) {
        try {
          parseOpeningHours(s.openingHours);
        } catch (error) {
          if (!(error instanceof OpeningHoursError)) throw error;
          ctx.addIssue({ code: 'custom', path: ['sources', i, 'openingHours'], message: error.message });
        }
      }
      if (ids.has(s.id))
        ctx.addIssue({ code: 'custom', path: ['sources', i, 'id'], message: `source id "${s.id}" is used twice` });
      ids.add(s.id);
      if (new URL(s.url).protocol === 'http:' && !s.allowPlainHttp)
        ctx.addIssue({
          code: 'custom',
          path: ['sources', i, 'url'],
          message:
            'is plain http://, so the token would cross the network unencrypted: use https:// (pin a self-signed ' +
            'certificate with tls.fingerprint256, see `npm run doctor`), or set allowPlainHttp: true on this source ' +
            'if the server offers no TLS',
        });
    });
    try {
      shardsOf(config);
    } catch (error) {
      if (!(error instanceof ShardError)) throw error;
      ctx.addIssue({ code: 'custom', path: ['sources', error.sourceIndex, 'shard'], message: error.message });
    }
    if (config.report && config.email === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['email'],
        message: 'the daily report is sent by e-mail, so set email.from to a verified SES sender',
      });
    }
    const names = new Set<string>();
    let selectorsValid = true;
    config.routes.forEach((route, i) => {
      if (names.has(route.name))
        ctx.addIssue({
          code: 'custom',
          path: ['routes', i, 'name'],
          message: `route name "${route.name}" is used twice`,
        });
      names.add(route.name);
      route.sources?.forEach((id, j) => {
        if (!ids.has(id))
          ctx.addIssue({ code: 'custom', path: ['routes', i, 'sources', j], message: `no source has the id "${id}"` });
      });
      route.tables?.forEach((spec, j) => {
        try {
          parseTableSelector(spec, config.zones);
        } catch (error) {
          if (!(error instanceof TableSelectorError)) throw error;
          selectorsValid = false;
          ctx.addIssue({ code: 'custom', path: ['routes', i, 'tables', j], message: error.message });
        }
      });
      if (route.email.length === 0 && route.sms.length === 0 && route.telegram.length === 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['routes', i],
          message: 'a route needs at least one e-mail, SMS or Telegram recipient',
        });
      }
      checkEscalation(config, route, i, ctx);
      if (route.email.length > 0 && config.email === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['email'],
          message: `route "${route.name}" sends e-mail, so set email.from to a verified SES sender`,
        });
      }
    });
    Object.entries(config.zones).forEach(([zone, specs]) => {
      specs.forEach((spec, j) => {
        try {
          parseTableSelector(spec, {});
          if (config.zones[spec.trim()] !== undefined)
            throw new TableSelectorError(`zone "${zone}" names another zone "${spec}"`);
        } catch (error) {
          if (!(error instanceof TableSelectorError)) throw error;
          selectorsValid = false;
          ctx.addIssue({ code: 'custom', path: ['zones', zone, j], message: error.message });
        }
      });
    });
    if (selectorsValid) {
      try {
        smsSubscriptions(config);
      } catch (error) {
        if (!(error instanceof FilterPolicyLimitError)) throw error;
        ctx.addIssue({ code: 'custom', path: ['routes'], message: error.message });
      }
    }
    if (config.delivery.claimTimeoutSeconds * 1000 <= config.polling.requestTimeoutMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['delivery', 'claimTimeoutSeconds'],
        message: 'must be longer than polling.requestTimeoutMs',
      });
    }
    const { polling, delivery } = config;
    if (polling.reconcileSeconds + polling.intervalSeconds >= polling.retentionSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['polling', 'reconcileSeconds'],
        message:
          `polling.reconcileSeconds (${polling.reconcileSeconds}) + polling.intervalSeconds (${polling.intervalSeconds}) ` +
          `must be less than polling.retentionSeconds (${polling.retentionSeconds}), or an event could leave the ` +
          "server's queue between two looks: lower reconcileSeconds or intervalSeconds, or set retentionSeconds to " +
          'what the server really keeps',
      });
    }
    const wholeSchedule = delivery.retryForSeconds + 2 * polling.retentionSeconds + delivery.claimTimeoutSeconds;
    if (delivery.recordTtlSeconds < 2 * polling.retentionSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['delivery', 'recordTtlSeconds'],
        message: 'must be at least twice polling.retentionSeconds, or a forgotten event could be sent again',
      });
    } else if (delivery.recordTtlSeconds < wholeSchedule) {
      ctx.addIssue({
        code: 'custom',
        path: ['delivery', 'recordTtlSeconds'],
        message:
          `must be at least delivery.retryForSeconds + 2 × polling.retentionSeconds + delivery.claimTimeoutSeconds ` +
          `(${delivery.retryForSeconds} + 2 × ${polling.retentionSeconds} + ${delivery.claimTimeoutSeconds} = ` +
          `${wholeSchedule} s), or a record could expire while its event is still retried and be sent again: ` +
          `raise recordTtlSeconds to ${wholeSchedule} or lower retryForSeconds`,
      });
    }
  });

export type AlertsConfig = z.infer<typeof AlertsConfigSchema>;

/** Escalation needs an acknowledging channel, a target route that exists, and steps in time order. */
function checkEscalation(
  config: { routes: readonly RouteConfig[] },
  route: RouteConfig,
  i: number,
  ctx: z.RefinementCtx,
): void {
  if (route.escalate.length === 0) return;
  if (route.telegram.length === 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['routes', i, 'escalate'],
      message:
        'escalates, but nobody can acknowledge its calls: escalation stops when someone presses "On my way", ' +
        'which only its Telegram chats can do — add telegram chats to this route, or remove escalate',
    });
  }
  route.escalate.forEach((step, j) => {
    if (!config.routes.some((r) => r.name === step.to)) {
      ctx.addIssue({
        code: 'custom',
        path: ['routes', i, 'escalate', j, 'to'],
        message: `no route is named "${step.to}"`,
      });
    } else if (step.to === route.name && !route.escalationOnly) {
      ctx.addIssue({
        code: 'custom',
        path: ['routes', i, 'escalate', j, 'to'],
        message: 'escalates to itself: name the route of whoever should hear about unanswered calls (the manager)',
      });
    }
    const before = route.escalate[j - 1];
    if (before && step.afterSeconds <= before.afterSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['routes', i, 'escalate', j, 'afterSeconds'],
        message: `must be later than the step before it (${before.afterSeconds} s)`,
      });
    }
  });
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
export type AlertsConfigInput = z.input<typeof AlertsConfigSchema>;

/** `routes[2].tables[0]` from zod's path array. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    '',
  );
}

/** Turn zod's issues into one readable line each. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const where = formatPath(issue.path);
    return where ? `${where}: ${issue.message}` : issue.message;
  });
}

/** Validate a config object; throws {@link ConfigError} listing every problem. */
export function parseAlertsConfig(input: unknown, where?: string): AlertsConfig {
  const result = AlertsConfigSchema.safeParse(input);
  if (!result.success) throw new ConfigError(describeIssues(result.error), where);
  return result.data;
}
