/**
 * One parser for a mailbox as people write it in the config: a bare address ("alerts@x.example")
 * or a display name with the address in angle brackets ("Alerts <alerts@x.example>",
 * "\"Café Zoë\" <alerts@x.example>", "Оповещения <alerts@x.example>").
 *
 * Used wherever the code needs the parts of `email.from`: the SES adapter (encoding a display
 * name outside ASCII), the delivery error messages (was it the sender SES refused?) and the CDK
 * config checks (which identity to verify). It does not validate the address; callers that need
 * a valid one check `address` themselves. Pure function.
 */

export interface Mailbox {
  /** The display name without surrounding quotes; absent for a bare address or empty name. */
  readonly name?: string;
  /** The address, trimmed, case preserved. */
  readonly address: string;
}

/** "Alerts <a@x.example>" → `{ name: "Alerts", address: "a@x.example" }`; "a@x.example" → `{ address }`. */
export function parseMailbox(text: string): Mailbox {
  const match = /^\s*(.*?)\s*<([^<>]*)>\s*$/.exec(text);
  if (!match) return { address: text.trim() };
  const name = match[1]!.replace(/^"(.*)"$/, '$1');
  return { ...(name !== '' && { name }), address: match[2]!.trim() };
}
