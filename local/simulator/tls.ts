/**
 * The simulator's TLS identity: like a restaurant's QR-menu server, a self-signed certificate for
 * an IP address. Made at start (EC P-256, SHA-256 signature, ≈50 ms) for 127.0.0.1, ::1 and
 * localhost, plus the listen host (and, when listening on all interfaces, the machine's own
 * addresses) so that a poller on the LAN can pin it too.
 */
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { generate } from 'selfsigned';

export interface TlsIdentity {
  readonly key: string;
  readonly cert: string;
  /** 'AB:CD:…', as Node's X509Certificate.fingerprint256. */
  readonly fingerprint256: string;
}

/** SHA-256 fingerprint of a PEM certificate, uppercase colon form. */
export function fingerprintOf(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

/** The names a certificate for this listen host should carry. */
export function certificateNames(host: string): { ips: string[]; dns: string[] } {
  const ips = new Set(['127.0.0.1', '::1']);
  const dns = new Set(['localhost']);
  if (host === '0.0.0.0' || host === '::') {
    for (const list of Object.values(networkInterfaces())) for (const nic of list ?? []) ips.add(nic.address);
  } else if (isIP(host) !== 0) ips.add(host);
  else dns.add(host);
  return { ips: [...ips], dns: [...dns] };
}

/** A fresh self-signed certificate (valid from a day ago for a year: clock skew happens). */
export async function selfSignedIdentity(host: string): Promise<TlsIdentity> {
  const names = certificateNames(host);
  const notBeforeDate = new Date(Date.now() - 86_400_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + 366 * 86_400_000);
  const pems = await generate([{ name: 'commonName', value: 'qrmenu-simulator' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          ...names.ips.map((ip) => ({ type: 7 as const, ip })),
          ...names.dns.map((value) => ({ type: 2 as const, value })),
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert, fingerprint256: fingerprintOf(pems.cert) };
}
