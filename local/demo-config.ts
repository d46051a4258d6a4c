/**
 * The demo restaurant `npm start` runs when no `--config` is given: one QR-menu server (the
 * simulator), the hall's Telegram group with the "On my way" button (a simulated waiter presses
 * it for most calls), waiters paged by SMS per zone, a manager who hears of bills and of calls
 * nobody answered within a minute (escalation), and a mailbox that gets everything. Phone numbers,
 * chats and addresses are placeholders: nothing leaves the machine in a local run.
 */
import type { AlertsConfigInput } from '../lambda/config/schema';

/** The hall's group and the manager's own chat with the bot, in the Telegram stand-in. */
export const DEMO_HALL_CHAT = -1001000000042;
export const DEMO_MANAGER_CHAT = 4242;

export const DEMO_CONFIG: AlertsConfigInput = {
  name: 'demo',
  locale: 'ru',
  timeZone: 'Europe/Moscow',
  sources: [{ id: 'pizzeria', name: 'Пиццерия на Ленина', url: 'https://127.0.0.1:8443' }],
  zones: { hall: ['1-19'], terrace: ['20-29'] },
  routes: [
    {
      name: 'hall-group',
      codes: ['waiter_call', 'waiter_call_cash', 'bill_request'],
      telegram: [DEMO_HALL_CHAT],
      escalate: [{ afterSeconds: 60, to: 'manager-escalations' }],
    },
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
    { name: 'manager-escalations', sms: ['+79160000004'], telegram: [DEMO_MANAGER_CHAT], escalationOnly: true },
  ],
  email: { from: 'alerts@pizzeria.example' },
  telegram: {},
  report: { to: ['manager@pizzeria.example'] },
  delivery: { cooldownSeconds: 30 },
};
