/**
 * A TCP proxy on loopback that can be switched off: while off, every new connection is reset and
 * open ones are cut. Put in front of an emulator, it turns "SES/SNS is down" on and off mid-test.
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
