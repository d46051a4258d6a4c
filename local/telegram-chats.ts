/**
 * `npm run telegram:chats -- [--token T] [--api-root URL] [--wait S] [--json]`: finding a chat id,
 * the step where people get stuck. Checks the bot token (getMe), reads the updates Telegram keeps
 * for the bot (getUpdates without an offset, so nothing is confirmed or taken from a poller), and
 * lists every chat that wrote to the bot or added it — id, type, title — with the config line to
 * paste (`telegram: [-1001234567890]  # Зал (supergroup)`). The token may come from
 * TELEGRAM_BOT_TOKEN instead of the command line, and is never printed.
 *
 * Exit codes: 0 chats found · 1 none yet · 2 token missing or rejected · 3 unreachable · 4 other.
 */
import { Command, Option } from 'commander';
import { TelegramChannel, TELEGRAM_DEFAULTS } from '../lambda/notify/telegram/channel';
import { TelegramError } from '../lambda/notify/telegram/errors';
import { DEFAULT_TELEGRAM_TOKEN_ENV, isPlausibleBotToken } from '../lambda/notify/telegram/token';
import { DISCOVERY_UPDATES, type ChatDiscovery, type ChatType } from '../lambda/notify/telegram/updates';
import { redact } from '../lambda/qrmenu/errors';

export const EXIT = { ok: 0, none: 1, token: 2, unreachable: 3, other: 4 } as const;

export interface TelegramChatsOptions {
  readonly token?: string;
  /** Default https://api.telegram.org. */
  readonly apiRoot?: string;
  /** Long-poll this many seconds for a first update when none is queued. Default 0. */
  readonly waitSeconds?: number;
  /** One JSON object instead of the report. */
  readonly json?: boolean;
  readonly print: (line: string) => void;
}

/** A chat as the report shows it: its latest state over all updates. */
export interface FoundChat {
  readonly chatId: number;
  readonly type: ChatType;
  readonly title: string;
  readonly username?: string;
  /** The bot was removed (or the group was upgraded) after it was seen. */
  readonly gone?: 'removed' | 'migrated';
  /** For an upgraded group: the supergroup's id, which is the one to use. */
  readonly migratedTo?: number;
}

/** The chats, one per id, in the order first heard of; later updates override earlier ones. */
export function summarizeChats(discoveries: readonly ChatDiscovery[]): FoundChat[] {
  const chats = new Map<number, FoundChat>();
  for (const d of discoveries) {
    const previous = chats.get(d.chatId);
    const base = {
      chatId: d.chatId,
      type: d.type,
      title: d.title,
      ...((d.username ?? previous?.username) && { username: d.username ?? previous?.username }),
    };
    chats.set(d.chatId, d.via === 'removed' ? { ...base, gone: 'removed' } : base);
    if (d.via === 'migrated' && d.migratedFrom !== undefined) {
      const old = chats.get(d.migratedFrom);
      if (old) chats.set(d.migratedFrom, { ...old, gone: 'migrated', migratedTo: d.chatId });
    }
  }
  return [...chats.values()];
}

/** The line to paste under a route. */
export function configLine(chat: FoundChat): string {
  const who = chat.username ? `${chat.title} (@${chat.username})` : chat.title;
  return `telegram: [${chat.chatId}]  # ${who.replace(/[\r\n]/g, ' ')} (${chat.type})`;
}

export async function runTelegramChats(options: TelegramChatsOptions): Promise<number> {
  const token = options.token?.trim();
  const print = (line: string): void => options.print(token ? redact(line, [token]) : line);
  if (!token) {
    print(`FAIL (exit ${EXIT.token}): no bot token: pass --token or set ${DEFAULT_TELEGRAM_TOKEN_ENV}`);
    return EXIT.token;
  }
  if (!isPlausibleBotToken(token)) {
    print(
      `FAIL (exit ${EXIT.token}): that is not a bot token: it looks like 123456789:AA… (digits, a colon, then letters, digits, "_" or "-"), exactly as @BotFather gave it`,
    );
    return EXIT.token;
  }
  const channel = new TelegramChannel({ token, apiRoot: options.apiRoot ?? TELEGRAM_DEFAULTS.apiRoot });
  let bot: Awaited<ReturnType<TelegramChannel['getMe']>>;
  let chats: FoundChat[];
  try {
    bot = await channel.getMe();
    const updates = await channel.getUpdates(undefined, options.waitSeconds ?? 0, {
      allowedUpdates: DISCOVERY_UPDATES,
    });
    chats = summarizeChats(updates.chats);
  } catch (error) {
    const failure = error instanceof TelegramError ? error.failure : undefined;
    const code =
      failure?.reason === 'token'
        ? EXIT.token
        : failure?.reason === 'network' || failure?.reason === 'timeout'
          ? EXIT.unreachable
          : EXIT.other;
    const advice =
      failure?.reason === 'conflict'
        ? ' Run this before the poller is deployed (or while it is stopped), or delete the webhook.'
        : '';
    print(`FAIL (exit ${code}): ${error instanceof Error ? error.message : String(error)}${advice}`);
    return code;
  }
  const name = bot.username ? `@${bot.username}` : bot.firstName || `id ${bot.id}`;
  if (options.json) {
    print(JSON.stringify({ bot: { id: bot.id, username: bot.username ?? null }, chats }));
    return chats.length > 0 ? EXIT.ok : EXIT.none;
  }
  print(`Bot ${name} (id ${bot.id}): token accepted.`);
  if (chats.length === 0) {
    print('');
    print(`No chats yet. Telegram keeps a bot's updates for 24 hours; to make one:`);
    print(`  - a person: open ${name} in Telegram and send it any message (e.g. /start);`);
    print(`  - a group: add ${name} to the group, then send /start@${bot.username ?? 'yourbot'} there`);
    print(`    (with privacy mode on, a bot sees only commands in groups);`);
    print('  - a channel: add the bot as an administrator, then post something.');
    print(`Then run this again. (Exit ${EXIT.none}.)`);
    return EXIT.none;
  }
  print('');
  print('Chats this bot has heard from:');
  const width = Math.max(...chats.map((c) => String(c.chatId).length));
  for (const chat of chats) {
    const note =
      chat.gone === 'migrated'
        ? ` — became the supergroup ${chat.migratedTo}: use that id`
        : chat.gone === 'removed'
          ? ' — the bot was removed from it'
          : '';
    const who = chat.username ? `${chat.title} (@${chat.username})` : chat.title;
    print(`  ${String(chat.chatId).padEnd(width)}  ${chat.type.padEnd(10)}  ${who}${note}`);
  }
  const usable = chats.filter((c) => c.gone === undefined);
  print('');
  if (usable.length === 0) {
    print('None of them can be used now (see above).');
    return EXIT.none;
  }
  print('Config lines to paste under a route (several chats: telegram: [id1, id2]):');
  for (const chat of usable) print(`  ${configLine(chat)}`);
  return EXIT.ok;
}

async function main(argv: readonly string[]): Promise<void> {
  const program = new Command()
    .name('npm run telegram:chats --')
    .description('List the chats that wrote to the bot or added it, with the config lines to paste.')
    .addOption(new Option('--token <token>', 'the bot token from @BotFather').env(DEFAULT_TELEGRAM_TOKEN_ENV))
    .option('--api-root <url>', 'Bot API server (the local emulator, a proxy)', TELEGRAM_DEFAULTS.apiRoot)
    .option('--wait <seconds>', 'wait this long for a first message when none is queued', (v) => Number(v), 0)
    .option('--json', 'one JSON object instead of the report')
    .parse(argv, { from: 'user' });
  const o = program.opts<{ token?: string; apiRoot: string; wait: number; json?: boolean }>();
  process.exitCode = await runTelegramChats({
    ...(o.token && { token: o.token }),
    apiRoot: o.apiRoot.replace(/\/+$/, ''),
    waitSeconds: o.wait,
    ...(o.json && { json: true }),
    print: (line) => console.log(line),
  });
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  await main(process.argv.slice(2));
}
