/**
 * TCP proxies on loopback to put in front of an emulator:
 *
 * - `SwitchableProxy` can be switched off: while off, every new connection is reset and open ones
 *   are cut. It turns "SES/SNS is down" on and off mid-test.
 * - `HoldingProxy` forwards every request at once and holds each answer for `holdMs` before
 *   passing it on: "AWS accepted the send but answered late". It counts the request/answer turns,
 *   so a test can wait until the emulator has answered everything instead of sleeping.
 */
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export class SwitchableProxy {
  up = true;
  readonly #server = createServer((client) => this.#accept(client));
  readonly #sockets = new Set<Socket>();

  private constructor(readonly target: URL) {}

  static async start(target: string): Promise<SwitchableProxy> {
    const proxy = new SwitchableProxy(new URL(target));
    proxy.#server.listen(0, '127.0.0.1');
    await once(proxy.#server, 'listening');
    return proxy;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  down(): void {
    this.up = false;
    for (const socket of this.#sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.down();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    if (!this.up) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(Number(this.target.port), this.target.hostname);
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }
}

export class HoldingProxy {
  /** Requests forwarded (one per request/answer turn on a connection). */
  requests = 0;
  /** Answers the emulator gave (whether or not the client was still there to receive them). */
  answers = 0;
  readonly #server = createServer((client) => this.#accept(client));
  readonly #sockets = new Set<Socket>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #waiters: (() => void)[] = [];

  private constructor(
    readonly target: URL,
    /** How long each answer is held. */
    readonly holdMs: number,
  ) {}

  static async start(target: string, holdMs: number): Promise<HoldingProxy> {
    const proxy = new HoldingProxy(new URL(target), holdMs);
    proxy.#server.listen(0, '127.0.0.1');
    await once(proxy.#server, 'listening');
    return proxy;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Resolves once the emulator has answered every request forwarded so far. */
  async settled(): Promise<void> {
    if (this.answers >= this.requests) return;
    await new Promise<void>((resolve) => this.#waiters.push(resolve));
    return this.settled();
  }

  async close(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #later(run: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      run();
    }, this.holdMs);
    this.#timers.add(timer);
  }

  #accept(client: Socket): void {
    const upstream = connect(Number(this.target.port), this.target.hostname);
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    let awaitingAnswer = false;
    client.on('data', (chunk) => {
      if (!awaitingAnswer) this.requests += 1;
      awaitingAnswer = true;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (awaitingAnswer) {
        awaitingAnswer = false;
        this.answers += 1;
        const waiters = this.#waiters;
        this.#waiters = [];
        for (const wake of waiters) wake();
      }
      this.#later(() => {
        if (!client.destroyed) client.write(chunk);
      });
    });
    upstream.on('end', () => this.#later(() => client.end()));
    // The client giving up (its timeout) does not take the answer back: the emulator already has the request.
    client.on('close', () => upstream.destroy());
  }
}
