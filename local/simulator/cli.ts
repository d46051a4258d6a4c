/**
 * `npm run simulator -- [options]`: runs the QR-menu simulator until Ctrl-C / SIGTERM (exit 0).
 * Prints the URL, the token, the certificate's SHA-256 fingerprint with the exact pinning hints and
 * curl examples; then one line per events request and per queued event (`--quiet` silences those).
 * The certificate is written to a file for `curl --cacert` (removed on exit unless --cert-out).
 * Flags and `--help`: cli-options.ts; the `/_sim/` control endpoints: control.ts.
 */
import { unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enqueuedLine, servedLine, startBanner } from './banner';
import { buildProgram, faultSettings, simulatorOptions, type CliOptions } from './cli-options';
import { createSimulator } from './server';

async function main(): Promise<void> {
  const program = buildProgram().parse();
  const o = program.opts<CliOptions>();
  if ((o.cert === undefined) !== (o.key === undefined)) program.error('error: --cert and --key go together');
  const print = (line: string): void => void process.stdout.write(`${line}\n`);
  const log = o.quiet === true ? undefined : print;

  const sim = await createSimulator({
    ...simulatorOptions(o),
    ...(log === undefined
      ? {}
      : { onServed: (record) => log(servedLine(record)), onEnqueued: (event) => log(enqueuedLine(event)) }),
  });
  const faults = faultSettings(o);
  sim.setFaults(faults);

  let certFile: string | undefined;
  if (sim.certPem !== undefined) {
    certFile = o.certOut ?? join(tmpdir(), `qrmenu-simulator-${new URL(sim.url).port}.crt`);
    writeFileSync(certFile, sim.certPem, { mode: 0o644 });
  }
  const ownCertFile = o.certOut === undefined ? certFile : undefined;

  print(
    startBanner({
      url: sim.url,
      token: o.token,
      seed: sim.seed,
      retentionSeconds: o.retention,
      hashes: o.hashes,
      unknownHash: o.unknownHash,
      authFailure: o.authFailure,
      rate: o.rate,
      certPem: sim.certPem,
      fingerprint256: sim.fingerprint256,
      certFile,
    }),
  );
  if (Object.keys(faults).length > 0) print(`Faults: ${JSON.stringify(faults)}`);
  if (!['127.0.0.1', 'localhost', '::1'].includes(o.host))
    print(`Warning: listening on ${o.host}: the /_sim/ control endpoints need no token.`);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    print(`${signal}: stopping`);
    void sim.close().then(() => {
      if (ownCertFile !== undefined) {
        try {
          unlinkSync(ownCertFile);
        } catch {
          // already gone
        }
      }
      process.exit(0);
    });
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`simulator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
