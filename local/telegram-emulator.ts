/**
 * A Telegram Bot API stand-in on loopback for tests and `npm start`: the `telegram-test-api`
 * emulator behind a small front of our own that makes it behave like the real API where our code
 * depends on it — getUpdates with real offsets (an update comes back until confirmed), long
 * polling, `allowed_updates`, 409 for two concurrent polls, 401/404 for a rejected token — and
 * that injects faults on request (429 with retry_after, 5xx, a reset after the request was
 * processed) through `POST /_emu/faults`. `SimulatedStaff` is a person in a chat who writes to
 * the bot and presses its buttons, over HTTP (usable from any process).
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import TelegramServer from 'telegram-test-api';

const LOOPBACK = '127.0.0.1';

export interface TelegramEmulatorOptions {
  /** Port of the front (the Bot API root). Default: a free one. */
  port?: number;
  /** Only these tokens are accepted (others get 401); default: every well-formed token. */
  validTokens?: readonly string[];
  /** How long the emulator keeps messages, in seconds. Default 3 600 (its own default is 60). */
  storeTimeoutSeconds?: number;
}

export interface TelegramEmulator {
  /** The Bot API root for the channel's `apiRoot` (http://127.0.0.1:port, no trailing "/"). */
  readonly endpoint: string;
  /** The emulator itself (in this process only). */
  readonly server: TelegramServer;
  stop(): Promise<void>;
}

/** A fault the front answers instead of the emulator (see `POST /_emu/faults`). */
export interface TelegramFault {
  /** The bot whose calls fail. */
  readonly token: string;
  /** Only this method ("sendMessage"); default: any but getUpdates. */
  readonly method?: string;
  /** Only calls for this chat_id (compared as strings). */
  readonly chatId?: number | string;
  /** How many calls fail. Default 1. */
  readonly times?: number;
  /**
   * - `error`: a Bot API error answer (`status`, default 429, with `retryAfter` seconds for 429);
   * - `reset`: the call reaches the emulator (the message IS sent), then the connection is cut;
   * - `html`: a 502 page that is not JSON, without passing the call on.
   */
  readonly type?: 'error' | 'reset' | 'html';
  readonly status?: number;
  readonly description?: string;
  readonly retryAfter?: number;
  readonly migrateToChatId?: number;
}

interface PendingFault extends TelegramFault {
  remaining: number;
}

interface BotState {
  /** Updates taken from the emulator, not yet confirmed by an offset. */
  queue: Record<string, unknown>[];
  allowed: string[] | undefined;
  /** The long poll now waiting, ended with 409 by a newer one. */
  waiting: ((conflict: boolean) => void) | undefined;
}

const TOKEN = /^\d+:[A-Za-z0-9_-]+$/;
const UPDATE_TYPES = [
  'message',
  'edited_message',
  'channel_post',
  'edited_channel_post',
  'callback_query',
  'my_chat_member',
  'chat_member',
];

/**
 * Start the emulator and its front, both on loopback, on the ports given (telegram-test-api falls
 * back to port 9000 for `port: 0`, so the caller picks free ones: see startTelegramEmulator in
 * emulators.ts).
 */
export async function startTelegramStandIn(
  options: TelegramEmulatorOptions & { readonly port: number; readonly innerPort: number },
): Promise<TelegramEmulator> {
  const { innerPort, port } = options;
  const server = new TelegramServer({
    port: innerPort,
    host: LOOPBACK,
    storeTimeout: options.storeTimeoutSeconds ?? 3_600,
  });
  await server.start();
  const inner = `http://${LOOPBACK}:${innerPort}`;
  const bots = new Map<string, BotState>();
  const faults: PendingFault[] = [];
  const valid = options.validTokens ? new Set(options.validTokens) : undefined;
  const botState = (token: string): BotState => {
    let state = bots.get(token);
    if (!state) {
      state = { queue: [], allowed: undefined, waiting: undefined };
      bots.set(token, state);
    }
    return state;
  };

  const front = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) json(res, 500, { ok: false, error_code: 500, description: String(error) });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://front');
    const body = await readBody(req);
    if (url.pathname === '/_emu/faults') {
      if (req.method === 'DELETE') {
        const token = url.searchParams.get('token');
        for (let i = faults.length - 1; i >= 0; i--) if (!token || faults[i]!.token === token) faults.splice(i, 1);
        return json(res, 200, { ok: true });
      }
      const fault = JSON.parse(body.toString('utf8') || '{}') as TelegramFault;
      if (typeof fault.token !== 'string') return json(res, 400, { ok: false, description: 'token required' });
      faults.push({ ...fault, remaining: fault.times ?? 1 });
      return json(res, 200, { ok: true });
    }
    if (url.pathname === '/_emu/polls') {
      // Whether a long poll of this bot is being held now (tests wait for it instead of sleeping).
      return json(res, 200, {
        ok: true,
        waiting: bots.get(url.searchParams.get('token') ?? '')?.waiting !== undefined,
      });
    }
    if (url.pathname === '/_emu/updates') {
      // Inject a raw update the emulator cannot make (e.g. my_chat_member: the bot added to a group).
      const { token, update } = JSON.parse(body.toString('utf8')) as { token: string; update: Record<string, unknown> };
      const counter = server as unknown as { updateId: number };
      botState(token).queue.push({ ...update, update_id: counter.updateId++ });
      server.emit('AddedUserMessage');
      return json(res, 200, { ok: true });
    }
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    if (!match) return forward(req, res, body);
    const [, token, method] = match as unknown as [string, string, string];
    if (!TOKEN.test(token)) return json(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    if (valid && !valid.has(token)) return json(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    const params = { ...Object.fromEntries(url.searchParams), ...parseParams(req, body) };
    if (method === 'getUpdates') return getUpdates(token, params, req, res);
    const fault = takeFault(token, method, params.chat_id);
    if (fault?.type === 'html') {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
      return;
    }
    if (fault?.type === 'reset') {
      await passOn(req, body); // processed (the message exists) ...
      res.socket?.destroy(); // ... but the answer is lost
      return;
    }
    if (fault) {
      const status = fault.status ?? 429;
      const parameters = {
        ...(status === 429 && { retry_after: fault.retryAfter ?? 1 }),
        ...(fault.migrateToChatId !== undefined && { migrate_to_chat_id: fault.migrateToChatId }),
      };
      return json(res, status, {
        ok: false,
        error_code: status,
        description:
          fault.description ??
          (status === 429 ? `Too Many Requests: retry after ${fault.retryAfter ?? 1}` : `Error ${status}`),
        ...(Object.keys(parameters).length > 0 && { parameters }),
      });
    }
    return forward(req, res, body);
  }

  function takeFault(token: string, method: string, chatId: unknown): PendingFault | undefined {
    const fault = faults.find(
      (f) =>
        f.token === token &&
        f.remaining > 0 &&
        (f.method === undefined ? method !== 'getUpdates' : f.method === method) &&
        (f.chatId === undefined || String(f.chatId) === String(chatId)),
    );
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) faults.splice(faults.indexOf(fault), 1);
    return fault;
  }

  /** getUpdates as the real API does it: offsets confirm, long polls wait, a newer poll ends the older with 409. */
  async function getUpdates(
    token: string,
    params: Record<string, unknown>,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const state = botState(token);
    const allowed = params.allowed_updates;
    if (allowed !== undefined) {
      const list = typeof allowed === 'string' ? (JSON.parse(allowed) as unknown) : allowed;
      state.allowed = Array.isArray(list) && list.length > 0 ? list.map(String) : undefined;
    }
    state.waiting?.(true);
    state.waiting = undefined;
    const offset = Number(params.offset ?? 0);
    const limit = Math.min(100, Math.max(1, Number(params.limit ?? 100) || 100));
    const timeoutMs = Math.min(50, Math.max(0, Number(params.timeout ?? 0) || 0)) * 1_000;
    const collect = async (): Promise<Record<string, unknown>[]> => {
      const drained = (await (await fetch(`${inner}/bot${token}/getUpdates`, { method: 'POST' })).json()) as {
        result?: Record<string, unknown>[];
      };
      state.queue.push(...(drained.result ?? []));
      state.queue.sort((a, b) => Number(a.update_id) - Number(b.update_id));
      if (offset > 0) state.queue = state.queue.filter((u) => Number(u.update_id) >= offset);
      else if (offset < 0) state.queue = state.queue.slice(offset);
      if (state.allowed) {
        const wanted = new Set(state.allowed);
        state.queue = state.queue.filter((u) => UPDATE_TYPES.some((type) => type in u && wanted.has(type)));
      }
      return state.queue.slice(0, limit);
    };
    let result = await collect();
    if (result.length === 0 && timeoutMs > 0) {
      const conflict = await new Promise<boolean>((resolve) => {
        const done = (value: boolean): void => {
          clearTimeout(timer);
          server.off('AddedUserMessage', onUpdate);
          server.off('AddedUserCommand', onUpdate);
          server.off('AddedUserCallbackQuery', onUpdate);
          req.off('close', onClose);
          if (state.waiting === done) state.waiting = undefined;
          resolve(value);
        };
        const onUpdate = (): void => done(false);
        const onClose = (): void => done(false);
        const timer = setTimeout(() => done(false), timeoutMs);
        server.on('AddedUserMessage', onUpdate);
        server.on('AddedUserCommand', onUpdate);
        server.on('AddedUserCallbackQuery', onUpdate);
        req.on('close', onClose);
        state.waiting = done;
      });
      if (conflict) {
        return json(res, 409, {
          ok: false,
          error_code: 409,
          description:
            'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
        });
      }
      // The emulator emits before it stores the update: let it finish.
      await new Promise((resolve) => setImmediate(resolve));
      result = await collect();
    }
    json(res, 200, { ok: true, result });
  }

  async function passOn(req: IncomingMessage, body: Buffer): Promise<Response> {
    const headers: Record<string, string> = {};
    if (req.headers['content-type']) headers['content-type'] = req.headers['content-type'];
    return fetch(`${inner}${req.url ?? '/'}`, {
      method: req.method ?? 'GET',
      headers,
      ...(req.method !== 'GET' && req.method !== 'HEAD' && { body: new Uint8Array(body) }),
    });
  }

  async function forward(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const answer = await passOn(req, body);
    const bytes = Buffer.from(await answer.arrayBuffer());
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
    res.end(bytes);
  }

  front.listen(port, LOOPBACK);
  await once(front, 'listening');
  return {
    endpoint: `http://${LOOPBACK}:${port}`,
    server,
    stop: async () => {
      for (const state of bots.values()) state.waiting?.(false);
      await closeServer(front);
      await server.stop();
    },
  };
}

function parseParams(req: IncomingMessage, body: Buffer): Record<string, unknown> {
  const type = req.headers['content-type'] ?? '';
  const text = body.toString('utf8');
  if (text === '') return {};
  if (type.includes('application/json')) {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  }
  if (type.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
  return {};
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/** Add a fault to the emulator at `endpoint` (from any process). */
export async function injectTelegramFault(endpoint: string, fault: TelegramFault): Promise<void> {
  const answer = await fetch(`${endpoint}/_emu/faults`, { method: 'POST', body: JSON.stringify(fault) });
  if (!answer.ok) throw new Error(`the Telegram emulator refused the fault: HTTP ${answer.status}`);
}

/** Wait (real time, asking every 20 ms) until a long poll of this bot is held by the emulator. */
export async function waitForLongPoll(endpoint: string, token: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const answer = (await (await fetch(`${endpoint}/_emu/polls?token=${encodeURIComponent(token)}`)).json()) as {
      waiting?: boolean;
    };
    if (answer.waiting) return;
    if (Date.now() > until) throw new Error(`no long poll of the bot was held within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Remove the faults of one bot (or all). */
export async function clearTelegramFaults(endpoint: string, token?: string): Promise<void> {
  const query = token ? `?token=${encodeURIComponent(token)}` : '';
  await fetch(`${endpoint}/_emu/faults${query}`, { method: 'DELETE' });
}

/** Inject an update the emulator cannot make itself (e.g. `my_chat_member`). */
export async function injectTelegramUpdate(
  endpoint: string,
  token: string,
  update: Record<string, unknown>,
): Promise<void> {
  await fetch(`${endpoint}/_emu/updates`, { method: 'POST', body: JSON.stringify({ token, update }) });
}

/** A message the bot sent, as the emulator keeps it (edits applied). */
export interface BotMessage {
  readonly messageId: number;
  readonly chatId: string;
  readonly text: string;
  readonly parseMode?: string;
  /** The inline buttons, row after row flattened ([] once an edit removed them). */
  readonly buttons: readonly { readonly text: string; readonly data?: string }[];
  /** When the emulator stored it (real time, epoch ms). */
  readonly storedAt: number;
}

export interface StaffPerson {
  readonly userId: number;
  readonly firstName: string;
  readonly lastName?: string;
  readonly username?: string;
}

export interface StaffChat {
  readonly id: number;
  readonly type: 'private' | 'group' | 'supergroup' | 'channel';
  /** Groups and channels. */
  readonly title?: string;
}

/**
 * A member of staff in a chat with the bot: writes to it (which is how the setup command finds
 * the chat), reads what the bot sent there, and presses "Иду" on a message.
 */
export class SimulatedStaff {
  constructor(
    readonly endpoint: string,
    readonly token: string,
    readonly person: StaffPerson,
    readonly chat: StaffChat,
  ) {}

  private get from() {
    return {
      id: this.person.userId,
      is_bot: false,
      first_name: this.person.firstName,
      ...(this.person.lastName && { last_name: this.person.lastName }),
      ...(this.person.username && { username: this.person.username }),
    };
  }

  private get chatObject() {
    return this.chat.type === 'private'
      ? {
          id: this.chat.id,
          type: 'private',
          first_name: this.person.firstName,
          ...(this.person.lastName && { last_name: this.person.lastName }),
          ...(this.person.username && { username: this.person.username }),
        }
      : { id: this.chat.id, type: this.chat.type, title: this.chat.title ?? 'Group' };
  }

  /** Write a message to the bot in this chat. */
  async say(text: string): Promise<void> {
    await this.post('/sendMessage', {
      botToken: this.token,
      date: Math.floor(Date.now() / 1000),
      from: this.from,
      chat: this.chatObject,
      text,
    });
  }

  /** Every message the bot sent to this chat, oldest first. */
  async botMessages(): Promise<BotMessage[]> {
    const answer = (await this.post('/getUpdatesHistory', { token: this.token })) as {
      result?: { time: number; messageId: number; message: Record<string, unknown> }[];
    };
    return (answer.result ?? [])
      .filter((u) => u.message && 'chat_id' in u.message && String(u.message.chat_id) === String(this.chat.id))
      .map((u) => {
        const markup = u.message.reply_markup as { inline_keyboard?: { text: string; callback_data?: string }[][] };
        return {
          messageId: u.messageId,
          chatId: String(u.message.chat_id),
          text: String(u.message.text ?? ''),
          ...(typeof u.message.parse_mode === 'string' && { parseMode: u.message.parse_mode }),
          buttons: (markup?.inline_keyboard ?? [])
            .flat()
            .map((b) => ({ text: b.text, ...(b.callback_data !== undefined && { data: b.callback_data }) })),
          storedAt: u.time,
        };
      });
  }

  /** Wait (real time, polling every 50 ms) for a message of the bot in this chat that matches. */
  async waitForMessage(match: (message: BotMessage) => boolean = () => true, timeoutMs = 5_000): Promise<BotMessage> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = (await this.botMessages()).find(match);
      if (found) return found;
      if (Date.now() > until) throw new Error(`no matching bot message in chat ${this.chat.id} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Press a button of a bot message (by default its first one, with the data the button carries). */
  async press(messageId: number, data?: string): Promise<void> {
    let payload = data;
    if (payload === undefined) {
      const message = (await this.botMessages()).find((m) => m.messageId === messageId);
      payload = message?.buttons.find((b) => b.data !== undefined)?.data;
      if (payload === undefined) throw new Error(`message ${messageId} in chat ${this.chat.id} has no button to press`);
    }
    await this.post('/sendCallback', {
      botToken: this.token,
      date: Math.floor(Date.now() / 1000),
      from: this.from,
      message: { message_id: messageId, chat: this.chatObject, from: { id: 0, is_bot: true, first_name: 'Bot' } },
      data: payload,
    });
  }

  private async post(path: string, body: unknown): Promise<unknown> {
    const answer = await fetch(`${this.endpoint}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!answer.ok) throw new Error(`the Telegram emulator answered ${path} with HTTP ${answer.status}`);
    return answer.json();
  }
}
