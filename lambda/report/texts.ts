/**
 * The words of the manager's daily report in Russian (the default) and English: subject, headings,
 * column names, the notes under the chart on a day the clocks changed, and plurals done by
 * Intl.PluralRules (1 вызов, 2 вызова, 5 вызовов). Event phrases ("вызов официанта") come from
 * lambda/core/texts.ts, so a new event code is named once for every message.
 * Pure functions: numbers and already-formatted strings in, strings out (nothing escaped here:
 * render.ts escapes every piece it puts into HTML).
 */
import type { Locale } from '../domain/routes';

type PluralForms = Readonly<Partial<Record<Intl.LDMLPluralRule, string>>> & { readonly other: string };

export interface ReportTexts {
  /** BCP 47 tag for dates and plurals. */
  readonly tag: string;
  readonly subject: (date: string, calls: string, unanswered: number, where: string | undefined) => string;
  readonly title: string;
  readonly intro: (date: string) => string;
  readonly calls: PluralForms;
  readonly tiles: {
    readonly calls: string;
    readonly answered: string;
    readonly answeredOf: (acknowledged: number, attendance: number) => string;
    readonly median: string;
    readonly p90: string;
    readonly unanswered: string;
    readonly escalated: string;
  };
  readonly chart: {
    readonly heading: string;
    readonly legendCalls: string;
    readonly legendUnanswered: string;
    /** Under the chart on a day the clocks went forward (the hour that did not happen). */
    readonly skipped: (hour: string) => string;
    /** On a day the clocks went back (the hour that happened twice). */
    readonly repeated: (hour: string) => string;
    readonly hoursOfDay: (hours: number) => string;
  };
  readonly byZone: string;
  readonly byPerson: string;
  readonly columns: {
    readonly zone: string;
    readonly person: string;
    readonly calls: string;
    readonly answered: string;
    /** A person's column: calls they answered. */
    readonly answers: string;
    readonly median: string;
    readonly p90: string;
    readonly time: string;
    readonly table: string;
    readonly event: string;
    readonly waited: string;
    readonly by: string;
    readonly after: string;
  };
  readonly noZone: string;
  readonly unanswered: (count: number) => string;
  readonly escalatedAnswered: (count: number) => string;
  readonly noAnswer: string;
  readonly waitedAtLeast: (duration: string) => string;
  readonly escalations: (count: number) => string;
  readonly notDelivered: string;
  readonly noCalls: string;
  readonly noAttendance: string;
  readonly allAnswered: string;
  readonly repeats: (count: number) => string;
  readonly more: (count: number) => string;
  readonly footer: (deployment: string, timeZone: string) => string;
}

const RU: ReportTexts = {
  tag: 'ru-RU',
  subject: (date, calls, unanswered, where) =>
    `Отчёт за ${date}: ${calls}${unanswered > 0 ? `, без ответа ${unanswered}` : ''}${where ? ` — ${where}` : ''}`,
  title: 'Отчёт за день',
  intro: (date) => `Вызовы гостей и время ответа персонала за ${date}.`,
  calls: { one: 'вызов', few: 'вызова', many: 'вызовов', other: 'вызова' },
  tiles: {
    calls: 'Вызовов',
    answered: 'Нажали «Иду»',
    answeredOf: (a, n) => `${a} из ${n}`,
    median: 'Медиана ответа',
    p90: '9 из 10 ответили за',
    unanswered: 'Без ответа',
    escalated: 'Эскалаций',
  },
  chart: {
    heading: 'Вызовы по часам',
    legendCalls: 'вызовы',
    legendUnanswered: 'из них без ответа',
    skipped: (hour) => `Часы переводили вперёд: часа ${hour} в этот день не было.`,
    repeated: (hour) => `Часы переводили назад: час ${hour} был дважды, его столбик считает оба.`,
    hoursOfDay: (hours) => `В этих сутках ${hours} ч.`,
  },
  byZone: 'Время до «Иду» по зонам',
  byPerson: 'По сотрудникам',
  columns: {
    zone: 'Зона',
    person: 'Сотрудник',
    calls: 'Вызовов',
    answered: 'Ответили',
    answers: 'Ответов',
    median: 'Медиана',
    p90: '90 %',
    time: 'Время',
    table: 'Стол',
    event: 'Событие',
    waited: 'Ожидание',
    by: 'Кто',
    after: 'Через',
  },
  noZone: 'без зоны',
  unanswered: (n) => `Без ответа (${n})`,
  escalatedAnswered: (n) => `Ответили только после эскалации (${n})`,
  noAnswer: 'никто не нажал «Иду»',
  waitedAtLeast: (d) => `не меньше ${d}`,
  escalations: (n) => `эскалаций: ${n}`,
  notDelivered: 'оповещение не ушло',
  noCalls: 'Вызовов не было.',
  noAttendance: 'Вызовов, к которым нужно подойти, не было.',
  allAnswered: 'На все вызовы ответили.',
  repeats: (n) => `Повторные нажатия в течение паузы (не рассылались): ${n}.`,
  more: (n) => `и ещё ${n}`,
  footer: (deployment, zone) => `qrmenu-alerts · ежедневный отчёт · ${deployment} · время: ${zone}`,
};

const EN: ReportTexts = {
  tag: 'en-GB',
  subject: (date, calls, unanswered, where) =>
    `Report for ${date}: ${calls}${unanswered > 0 ? `, ${unanswered} unanswered` : ''}${where ? ` — ${where}` : ''}`,
  title: 'Daily report',
  intro: (date) => `Guest calls and how fast staff answered them on ${date}.`,
  calls: { one: 'call', other: 'calls' },
  tiles: {
    calls: 'Calls',
    answered: '“On my way” pressed',
    answeredOf: (a, n) => `${a} of ${n}`,
    median: 'Median response',
    p90: '9 in 10 answered within',
    unanswered: 'Unanswered',
    escalated: 'Escalated',
  },
  chart: {
    heading: 'Calls per hour',
    legendCalls: 'calls',
    legendUnanswered: 'of which unanswered',
    skipped: (hour) => `The clocks went forward: the hour ${hour} did not happen that day.`,
    repeated: (hour) => `The clocks went back: the hour ${hour} happened twice; its bar counts both.`,
    hoursOfDay: (hours) => `This day had ${hours} hours.`,
  },
  byZone: 'Time to “On my way” by zone',
  byPerson: 'By person',
  columns: {
    zone: 'Zone',
    person: 'Person',
    calls: 'Calls',
    answered: 'Answered',
    answers: 'Answered',
    median: 'Median',
    p90: '90 %',
    time: 'Time',
    table: 'Table',
    event: 'Event',
    waited: 'Waited',
    by: 'Who',
    after: 'After',
  },
  noZone: 'no zone',
  unanswered: (n) => `Unanswered (${n})`,
  escalatedAnswered: (n) => `Answered only after escalation (${n})`,
  noAnswer: 'nobody pressed “On my way”',
  waitedAtLeast: (d) => `at least ${d}`,
  escalations: (n) => `escalations: ${n}`,
  notDelivered: 'the alert did not go out',
  noCalls: 'No calls.',
  noAttendance: 'No calls that needed someone to come.',
  allAnswered: 'Every call was answered.',
  repeats: (n) => `Repeat taps within the cooldown (not sent): ${n}.`,
  more: (n) => `and ${n} more`,
  footer: (deployment, zone) => `qrmenu-alerts · daily report · ${deployment} · times in ${zone}`,
};

const TEXTS: Readonly<Record<Locale, ReportTexts>> = { ru: RU, en: EN };

/** The report's words in a locale (Russian for an unknown one). */
export function reportTexts(locale: Locale | undefined): ReportTexts {
  return TEXTS[locale ?? 'ru'] ?? RU;
}

/** "86 вызовов", "1 call". */
export function countCalls(count: number, t: ReportTexts): string {
  const form = new Intl.PluralRules(t.tag).select(count);
  return `${new Intl.NumberFormat(t.tag).format(count)} ${t.calls[form] ?? t.calls.other}`;
}

/** A date of the report for people: "четверг, 12 марта 2026 г." (long) or "12 марта" (short). */
export function formatDate(date: string, t: ReportTexts, style: 'long' | 'short'): string {
  const utc = Date.parse(`${date}T12:00:00Z`);
  return new Intl.DateTimeFormat(t.tag, {
    timeZone: 'UTC',
    day: 'numeric',
    month: 'long',
    ...(style === 'long' && { weekday: 'long', year: 'numeric' }),
  }).format(utc);
}

/** "01:00–02:00", the hour of the clock a chart bar stands for. */
export function hourSpan(hour: number): string {
  const two = (h: number) => String(h % 24).padStart(2, '0');
  return `${two(hour)}:00–${two(hour + 1)}:00`;
}
