/**
 * The demo restaurant `npm start` runs when no `--config` is given: one QR-menu server (the
 * simulator), waiters paged by SMS per hall zone, a manager for bills and payments, and a
 * mailbox that gets everything. Phone numbers and addresses are placeholders: nothing leaves
 * the machine in a local run.
 */
import type { AlertsConfigInput } from '../lambda/config/schema';

export const DEMO_CONFIG: AlertsConfigInput = {
  name: 'demo',
  locale: 'ru',
  timeZone: 'Europe/Moscow',
  sources: [{ id: 'pizzeria', name: 'Пиццерия на Ленина', url: 'https://127.0.0.1:8443' }],
  zones: { hall: ['1-19'], terrace: ['20-29'] },
  routes: [
    { name: 'hall-waiter', codes: ['waiter_call', 'waiter_call_cash'], tables: ['hall'], sms: ['+79160000001'] },
    { name: 'terrace-waiter', codes: ['waiter_call', 'waiter_call_cash'], tables: ['terrace'], sms: ['+79160000002'] },
    {
      name: 'vip-and-bar',
      codes: ['waiter_call', 'waiter_call_cash', 'bill_request'],
      tables: ['VIP', 'Бар 2'],
      sms: ['+79160000003'],
    },
    {
      name: 'manager',
      codes: ['bill_request', 'waiter_call_cash', 'order_paid'],
      email: ['manager@pizzeria.example'],
      sms: ['+79160000004'],
    },
    { name: 'log', email: ['log@pizzeria.example'] },
  ],
  email: { from: 'alerts@pizzeria.example' },
  polling: { intervalSeconds: 3 },
  delivery: { cooldownSeconds: 30 },
};
