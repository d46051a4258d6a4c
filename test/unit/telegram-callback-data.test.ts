/**
 * The "On my way" button's callback data: always within Telegram's 64 bytes, read back to the
 * same event for every source id and hash (up to 128 characters and beyond, any characters), and
 * nothing foreign or tampered is taken for one of ours. Pure functions only.
 */
import { describe, expect, it } from 'vitest';
import {
  ackRefersTo,
  CALLBACK_DATA_MAX_BYTES,
  decodeAckData,
  encodeAckData,
  hashDigest,
} from '../../lambda/notify/telegram/callback-data';
import { seededRandom } from '../support/random';

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

describe('callback data', () => {
  it('carries a typical hash as it is: compact and readable', () => {
    const data = encodeAckData('pizzeria', '0xd8833dd3');
    expect(data).toBe('a:pizzeria:0xd8833dd3');
    expect(decodeAckData(data)).toEqual({ form: 'hash', sourceId: 'pizzeria', hash: '0xd8833dd3' });
  });

  it('keeps a hash that holds ":" whole (the source id ends at the second ":")', () => {
    const data = encodeAckData('a-1', 'x:y:z');
    expect(decodeAckData(data)).toEqual({ form: 'hash', sourceId: 'a-1', hash: 'x:y:z' });
  });

  it('falls back to a digest for a hash that does not fit, with the longest source id', () => {
    const source = 'a'.repeat(32);
    const hash = `0x${'f'.repeat(126)}`; // 128 characters
    const data = encodeAckData(source, hash);
    expect(bytes(data)).toBeLessThanOrEqual(CALLBACK_DATA_MAX_BYTES);
    expect(data).toBe(`d:${source}:${hashDigest(hash)}`);
    const ref = decodeAckData(data)!;
    expect(ref).toEqual({ form: 'digest', sourceId: source, digest: hashDigest(hash) });
    expect(ackRefersTo(ref, source, hash)).toBe(true);
    expect(ackRefersTo(ref, source, `${hash.slice(0, -1)}e`)).toBe(false);
    expect(ackRefersTo(ref, 'other', hash)).toBe(false);
  });

  it('uses the digest for hashes that are not printable ASCII (spaces, Cyrillic, emoji, lone surrogates)', () => {
    for (const hash of ['a b', 'хэш', '🍕', '\ud800x', '']) {
      const ref = decodeAckData(encodeAckData('p', hash))!;
      expect(ref.form).toBe('digest');
      expect(ackRefersTo(ref, 'p', hash)).toBe(true);
    }
  });

  it('round-trips thousands of random source ids and hashes within 64 bytes', () => {
    const random = seededRandom(11);
    const sourceChars = 'abcdefghijklmnopqrstuvwxyz0123456789-';
    const hashChars = '0123456789abcdefABCDEFx:|/_-.~!é 🍕';
    for (let i = 0; i < 3_000; i++) {
      const source =
        sourceChars[Math.floor(random() * 36)]! +
        Array.from({ length: Math.floor(random() * 32) }, () => sourceChars[Math.floor(random() * 37)]).join('');
      const hash = Array.from(
        { length: 1 + Math.floor(random() * 140) },
        () => Array.from(hashChars)[Math.floor(random() * Array.from(hashChars).length)],
      ).join('');
      const data = encodeAckData(source, hash);
      expect(bytes(data)).toBeLessThanOrEqual(CALLBACK_DATA_MAX_BYTES);
      const ref = decodeAckData(data);
      expect(ref).toBeDefined();
      expect(ackRefersTo(ref!, source, hash)).toBe(true);
      if (ref!.form === 'hash') expect(ref!.hash).toBe(hash);
    }
  });

  it('refuses anything it did not write', () => {
    for (const data of [
      undefined,
      42,
      '',
      'a',
      'a:',
      'a:pizzeria',
      'a:pizzeria:',
      'x:pizzeria:0x1',
      'a:Pizzeria:0x1',
      'a:piz zeria:0x1',
      'a:pizzeria:0x 1',
      'd:pizzeria:short',
      `d:pizzeria:${'A'.repeat(23)}`,
      `a:p:${'x'.repeat(70)}`,
      'ab:pizzeria:0x1',
    ]) {
      expect(decodeAckData(data), String(data)).toBeUndefined();
    }
  });

  it('refuses to encode a source id the config could never hold', () => {
    expect(() => encodeAckData('Bad:id', '0x1')).toThrow(RangeError);
    expect(() => encodeAckData('a'.repeat(33), '0x1')).toThrow(RangeError);
  });
});
