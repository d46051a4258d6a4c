/**
 * Builds the poller's Lambda bundle the way CDK does (infra/constructs/poller.ts: NodejsFunction
 * with ESM, minify, source map without sources, the SDK bundled, mainFields module/main, the
 * `require` banner, the `--alias` arguments; target from the runtime as CDK derives it) by calling
 * esbuild's API with POLLER_BUNDLING, the options the construct itself uses, and reads esbuild's metafile to say which packages take the bytes.
 * If an earlier `cdk synth` left the real asset in cdk.out, its size is reported beside ours.
 */
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, version as esbuildVersion, type Metafile } from 'esbuild';
import { HANDLER_ENTRY, POLLER_BUNDLING, POLLER_RUNTIME } from '../../infra/constructs/poller';

export interface PackageShare {
  /** npm package ("@aws-sdk/client-dynamodb") or project folder ("lambda/"). */
  readonly name: string;
  readonly bytes: number;
}

export interface BundleResult {
  readonly file: string;
  readonly dir: string;
  readonly bytes: number;
  readonly kib: number;
  readonly sourceMapBytes: number;
  readonly target: string;
  readonly esbuild: string;
  readonly buildMs: number;
  /** Bytes in the output per package, largest first. */
  readonly packages: readonly PackageShare[];
  /** Package families: the AWS SDK (@aws-sdk, @smithy, @aws-crypto), Powertools, zod, the project, the rest. */
  readonly families: readonly PackageShare[];
  /** Size of the asset an earlier `cdk synth` left in cdk.out, if any (may be stale). */
  readonly cdkOutAssetBytes?: number;
}

/** CDK's target for a runtime: "nodejs24.x" → "node24". */
export function esbuildTarget(runtimeName: string): string {
  const match = /nodejs(\d+)/.exec(runtimeName);
  if (!match) throw new Error(`cannot derive an esbuild target from the runtime ${runtimeName}`);
  return `node${match[1]}`;
}

export async function buildLambdaBundle(repoRoot: string): Promise<BundleResult> {
  const dir = mkdtempSync(join(tmpdir(), 'qrmenu-bench-bundle-'));
  const file = join(dir, 'index.mjs');
  const target = esbuildTarget(POLLER_RUNTIME.name);
  const started = performance.now();
  const result = await build({
    absWorkingDir: repoRoot,
    entryPoints: [HANDLER_ENTRY],
    bundle: true,
    platform: 'node',
    target,
    outfile: file,
    format: POLLER_BUNDLING.format,
    minify: POLLER_BUNDLING.minify,
    sourcemap: POLLER_BUNDLING.sourceMap,
    sourcesContent: POLLER_BUNDLING.sourcesContent,
    external: POLLER_BUNDLING.externalModules,
    mainFields: [...POLLER_BUNDLING.mainFields],
    banner: { js: POLLER_BUNDLING.banner },
    logLevel: POLLER_BUNDLING.logLevel,
    alias: aliasesOf(POLLER_BUNDLING.esbuildArgs),
    metafile: true,
  });
  const buildMs = performance.now() - started;
  const bytes = statSync(file).size;
  const packages = packageShares(result.metafile);
  const cdkOut = cdkOutAssetBytes(repoRoot);
  return {
    file,
    dir,
    bytes,
    kib: bytes / 1024,
    sourceMapBytes: statSync(`${file}.map`).size,
    target,
    esbuild: esbuildVersion,
    buildMs,
    packages,
    families: families(packages),
    ...(cdkOut !== undefined ? { cdkOutAssetBytes: cdkOut } : {}),
  };
}

/**
 * esbuild's `alias` option from the CLI arguments CDK is given (`--alias` → ["module=path", …]).
 * Any other argument fails here: the bench must not build a bundle other than the one CDK builds.
 */
export function aliasesOf(esbuildArgs: Readonly<Record<string, string | boolean | readonly string[]>>) {
  const alias: Record<string, string> = {};
  for (const [key, value] of Object.entries(esbuildArgs)) {
    if (key !== '--alias') throw new Error(`the bench does not know how to pass the esbuild argument ${key}`);
    for (const item of typeof value === 'string' ? [value] : Array.isArray(value) ? value : []) {
      const at = item.indexOf('=');
      if (at < 1) throw new Error(`--alias:${item} is not "module=path"`);
      alias[item.slice(0, at)] = item.slice(at + 1);
    }
  }
  return alias;
}

/** "node_modules/@aws-sdk/client-sns/dist-es/x.js" → "@aws-sdk/client-sns"; "lambda/poller/x.ts" → "lambda/". */
export function packageOf(inputPath: string): string {
  const at = inputPath.lastIndexOf('node_modules/');
  if (at < 0) return `${inputPath.split('/')[0] ?? inputPath}/`;
  const parts = inputPath.slice(at + 'node_modules/'.length).split('/');
  return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? inputPath);
}

export function packageShares(metafile: Metafile): PackageShare[] {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) {
      const name = packageOf(path);
      totals.set(name, (totals.get(name) ?? 0) + input.bytesInOutput);
    }
  }
  return [...totals]
    .map(([name, bytes]) => ({ name, bytes }))
    .filter((p) => p.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes);
}

const FAMILIES: readonly (readonly [string, (name: string) => boolean])[] = [
  ['AWS SDK (@aws-sdk/*, @smithy/*, @aws-crypto/*, @aws/*)', (n) => /^@(aws-sdk|smithy|aws-crypto|aws)\//.test(n)],
  ['Powertools (@aws-lambda-powertools/*)', (n) => n.startsWith('@aws-lambda-powertools/')],
  ['zod', (n) => n === 'zod'],
  ['this project (lambda/)', (n) => n.endsWith('/') && !n.startsWith('@')],
];

export function families(packages: readonly PackageShare[]): PackageShare[] {
  const totals = new Map<string, number>();
  for (const p of packages) {
    const family = FAMILIES.find(([, test]) => test(p.name))?.[0] ?? 'other packages';
    totals.set(family, (totals.get(family) ?? 0) + p.bytes);
  }
  return [...totals].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

function cdkOutAssetBytes(repoRoot: string): number | undefined {
  const out = join(repoRoot, 'cdk.out');
  if (!existsSync(out)) return undefined;
  const sizes = readdirSync(out)
    .filter((name) => name.startsWith('asset.'))
    .map((name) => join(out, name, 'index.mjs'))
    .filter((path) => existsSync(path))
    .map((path) => ({ path, at: statSync(path).mtimeMs, size: statSync(path).size }))
    .sort((a, b) => b.at - a.at);
  return sizes[0]?.size;
}
