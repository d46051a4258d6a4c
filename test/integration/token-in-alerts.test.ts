/**
 * A QR-menu server that echoes its own token in an event (a table named with it, an order comment,
 * an unknown field) must not make the token leave in an alert: through the real client, poller
 * and deliverer, the e-mail the SES emulator stored, the SNS publish (SMS text, e-mail text, the
 * JSON for integrators) and the Telegram message hold no trace of it.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createSimulator, type Simulator } from '../../local/simulator';
import { parseAlertsConfig } from '../../lambda/config/schema';
import { createDeliverer } from '../../lambda/notify/deliverer';
import { createSnsClient } from '../../lambda/notify/sns';
import { TelegramChannel } from '../../lambda/notify/telegram';
import { StateStore } from '../../lambda/state/store';
import { ManualClock, countingDynamoDbClient, freshTable, makePoller } from '../support/harness';
import { FAKE_AWS, fakeWire, xmlResult } from '../support/wire';
import { freshBotToken, SimulatedStaff } from '../support/telegram';

const TOKEN = 'echo-token-9d41c7e2';
const clock = new ManualClock();
const db = countingDynamoDbClient();
let sim: Simulator;

beforeAll(async () => {
  sim = await createSimulator({ token: TOKEN, tls: false, now: clock.now, seed: 3 });
});
afterAll(async () => {
  await sim.close();
});

describe('the token echoed by the server', () => {
  it('appears in no e-mail, SMS, SNS message or Telegram message', async () => {
    const bot = freshBotToken();
    const apiRoot = inject('emulators').telegram;
    const hall = { id: -1001000000777, type: 'supergroup', title: 'Зал' } as const;
    const config = parseAlertsConfig({
      sources: [{ id: 'pizzeria', url: sim.url, allowPlainHttp: true }],
      routes: [{ name: 'all', email: ['zal@pizza.example'], sms: ['+79160000001'], telegram: [hall.id] }],
      email: { from: 'alerts@pizza.example' },
      telegram: { token: { value: bot }, apiRoot },
    });
    const snsWire = fakeWire(() => xmlResult('Publish', 'm-1'));
    const sns = createSnsClient({ ...FAKE_AWS, requestHandler: snsWire });
    const telegram = new TelegramChannel({ token: bot, apiRoot, clock: { now: clock.now, sleep: async () => {} } });
    const deliverer = createDeliverer({
      config,
      topicArn: 'arn:aws:sns:eu-central-1:1:alerts',
      sns,
      telegram,
      now: clock.now,
    });
    const store = new StateStore({ tableName: await freshTable(), client: db.client });
    const poller = makePoller({ clock, sim, store, token: TOKEN }, { deliverer });
    await poller.begin(clock.now() + 55_000);
    await poller.tick(clock.now() + 55_000);
    const echo = sim.inject({
      code: 'waiter_call',
      tableName: `6 ${TOKEN}`,
      invoice: { comment: `pay with ${TOKEN}`, [`key-${TOKEN}`]: { deep: [TOKEN] } },
    });
    clock.advance(10_000);
    await poller.tick(clock.now() + 55_000);
    await poller.end();

    const response = await fetch(`${inject('emulators').ses}/store`);
    const stored = (await response.json()) as { emails: { subject: string; body: { html?: string; text?: string } }[] };
    const mail = stored.emails.filter((m) => m.subject.includes('6 ***'));
    expect(mail).toHaveLength(1);
    expect(JSON.stringify(mail)).not.toContain(TOKEN);

    const published = snsWire.calls.filter((c) => c.action === 'Publish');
    expect(published).toHaveLength(1);
    expect(published[0]!.body).not.toContain(TOKEN);
    expect(JSON.stringify(published[0]!.params)).not.toContain(TOKEN);
    expect(JSON.parse(published[0]!.params.Message!).sms).toContain('***');

    const [message] = await new SimulatedStaff(apiRoot, bot, { userId: 1, firstName: 'Иван' }, hall).botMessages();
    expect(message!.text).toContain('***');
    expect(message!.text).not.toContain(TOKEN);
    expect(echo.hash).toBeTruthy();
  });
});
