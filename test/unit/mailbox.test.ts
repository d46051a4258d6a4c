/**
 * Specification of the one "Name <address>" parser (lambda/core/mailbox.ts) that the SES adapter,
 * the delivery error messages and the CDK config checks share: bare addresses, display names
 * (quoted, non-ASCII, empty) and text that is no mailbox at all. Pure function, no I/O.
 */
import { describe, expect, it } from 'vitest';
import { parseMailbox } from '../../lambda/core/mailbox';

describe('parseMailbox', () => {
  it('takes a bare address as the address, trimmed', () => {
    expect(parseMailbox(' alerts@x.example ')).toEqual({ address: 'alerts@x.example' });
  });

  it('splits a display name from the address in angle brackets', () => {
    expect(parseMailbox('Alerts <alerts@x.example>')).toEqual({ name: 'Alerts', address: 'alerts@x.example' });
    expect(parseMailbox('Оповещения   < alerts@x.example > ')).toEqual({
      name: 'Оповещения',
      address: 'alerts@x.example',
    });
  });

  it('drops the quotes around a quoted display name and keeps the case of the address', () => {
    expect(parseMailbox('"Café Zoë" <Alerts@X.example>')).toEqual({ name: 'Café Zoë', address: 'Alerts@X.example' });
  });

  it('gives no name for "<address>" alone', () => {
    expect(parseMailbox('<alerts@x.example>')).toEqual({ address: 'alerts@x.example' });
  });

  it('leaves text that is not a mailbox as the address, for the caller to validate', () => {
    expect(parseMailbox('Pizza alerts')).toEqual({ address: 'Pizza alerts' });
    expect(parseMailbox('a <b> <c@x.example>')).toEqual({ name: 'a <b>', address: 'c@x.example' });
  });
});
