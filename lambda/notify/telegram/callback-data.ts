/**
 * The "On my way" button's `callback_data`: which event a press is about, in at most 64 bytes
 * (Telegram's limit), unambiguously, and read back without trusting it.
 *
 *   a:<sourceId>:<hash>      the server's hash as is, when it is printable ASCII and fits
 *   d:<sourceId>:<digest>    otherwise: base64url of SHA-256(hash), first 22 characters (132 bits)
 *
 * A source id never holds ":" (see SOURCE_ID in config/schema.ts), so the second ":" ends it and
 * the rest is the hash, whatever it contains. Pure functions: no I/O.
 */
import { createHash } from 'node:crypto';

/** Telegram's limit on `callback_data`, in bytes (UTF-8). */
export const CALLBACK_DATA_MAX_BYTES = 64;
/** Characters of the digest form: 22 base64url characters = 132 bits. */
export const HASH_DIGEST_LENGTH = 22;

const RAW = 'a';
const DIGEST = 'd';
/** What a source id may be (the config's SOURCE_ID): never a ":". */
const SOURCE = /^[a-z0-9][a-z0-9-]{0,31}$/;
/** Hashes sent as they are: printable ASCII only (no space), so bytes = characters. */
const PRINTABLE = /^[\x21-\x7E]+$/;
const DIGEST_TEXT = new RegExp(`^[A-Za-z0-9_-]{${HASH_DIGEST_LENGTH}}$`);

/** A press, decoded: the event by its hash, or by the digest of its hash when the hash did not fit. */
export type AckReference =
  | { readonly form: 'hash'; readonly sourceId: string; readonly hash: string }
  | { readonly form: 'digest'; readonly sourceId: string; readonly digest: string };

/** The digest that stands for a hash too long (or too odd) to be sent in the button itself. */
export function hashDigest(hash: string): string {
  return createHash('sha256').update(hash, 'utf8').digest('base64url').slice(0, HASH_DIGEST_LENGTH);
}

/** The button's data for an event. Throws only for a source id the config could never hold. */
export function encodeAckData(sourceId: string, hash: string): string {
  if (!SOURCE.test(sourceId)) throw new RangeError(`not a source id: ${JSON.stringify(sourceId.slice(0, 40))}`);
  const raw = `${RAW}:${sourceId}:${hash}`;
  if (PRINTABLE.test(hash) && raw.length <= CALLBACK_DATA_MAX_BYTES) return raw;
  return `${DIGEST}:${sourceId}:${hashDigest(hash)}`;
}

/** What a press's data refers to, or undefined for anything this code did not write. */
export function decodeAckData(data: unknown): AckReference | undefined {
  if (typeof data !== 'string' || data.length > CALLBACK_DATA_MAX_BYTES) return undefined;
  const first = data.indexOf(':');
  const second = first < 0 ? -1 : data.indexOf(':', first + 1);
  if (first !== 1 || second < 0) return undefined;
  const form = data.slice(0, first);
  const sourceId = data.slice(first + 1, second);
  const rest = data.slice(second + 1);
  if (!SOURCE.test(sourceId)) return undefined;
  if (form === RAW && PRINTABLE.test(rest)) return { form: 'hash', sourceId, hash: rest };
  if (form === DIGEST && DIGEST_TEXT.test(rest)) return { form: 'digest', sourceId, digest: rest };
  return undefined;
}

/** Does a decoded press refer to this event? (The digest form is compared through the digest.) */
export function ackRefersTo(reference: AckReference, sourceId: string, hash: string): boolean {
  if (reference.sourceId !== sourceId) return false;
  return reference.form === 'hash' ? reference.hash === hash : reference.digest === hashDigest(hash);
}
