/**
 * What routing reads of a deployment's config: its routes and zones, as plain types. The config
 * schema (lambda/config/schema.ts) validates them; the routing rules (lambda/core/routing.ts)
 * and the renderers use them — neither imports the other's module for it.
 */

/** Language of every message. */
export type Locale = 'ru' | 'en';

/** Named groups of tables: `{ terrace: ["20-29"], bar: ["Bar-1"] }`. */
export type Zones = Readonly<Record<string, readonly string[]>>;

/** One route: which events (codes, sources, tables) go to which recipients. */
export interface Route {
  readonly name: string;
  /** Default: every code. */
  readonly codes?: readonly string[] | undefined;
  /** Default: every source. */
  readonly sources?: readonly string[] | undefined;
  /** Table names, ranges ("1-10") or zone names. Default: every table. */
  readonly tables?: readonly string[] | undefined;
  readonly email: readonly string[];
  readonly sms: readonly string[];
  /** Telegram chats (a hall's group, a person): numeric ids or "@channel" names. */
  readonly telegram?: readonly TelegramChatId[] | undefined;
  /** Steps for an attendance call nobody acknowledged: after so long, tell another route. */
  readonly escalate?: readonly EscalationStep[] | undefined;
  /** Pages outside the source's opening hours too. */
  readonly always?: boolean | undefined;
  /** Hears only the calls escalated to it. */
  readonly escalationOnly?: boolean | undefined;
}

export type TelegramChatId = number | string;

export interface EscalationStep {
  /** Seconds after the call was first seen. */
  readonly afterSeconds: number;
  /** The route whose recipients are told (on any of its channels). */
  readonly to: string;
}

export interface RoutingConfig {
  readonly routes: readonly Route[];
  readonly zones: Zones;
}
