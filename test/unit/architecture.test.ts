/**
 * Imports run one way: no cycle between files, and none between folders (lambda/domain at the
 * bottom, then core, config and the adapters, the poll cycle, the handler; infra, local, bench
 * and test above). Read from the import statements themselves: the cycle-finding tools
 * (dependency-cruiser, madge, dpdm) need TypeScript's JavaScript API, which TypeScript 7 has not.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const TOP = ['lambda', 'infra', 'local', 'bench', 'test'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'cdk.out') return [];
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

const files = TOP.flatMap((top) => sources(join(ROOT, top)));
const known = new Set(files);
const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'";]*?\bfrom\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g;

/** file → the project files it imports (relative specifiers only; `.ts` and `/index.ts` resolved). */
const graph = new Map<string, Set<string>>(
  files.map((file) => {
    const targets = new Set<string>();
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const base = resolve(dirname(file), (match[1] ?? match[2])!);
      const target = [`${base}.ts`, join(base, 'index.ts'), base].find((candidate) => known.has(candidate));
      if (target) targets.add(target);
    }
    return [file, targets];
  }),
);

/** A cycle in a graph, as a list of nodes, or undefined. */
function findCycle(edges: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const next of edges.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of edges.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

const rel = (path: string) => relative(ROOT, path);

describe('imports run one way', () => {
  it('read the imports of every source file', () => {
    expect(files.length).toBeGreaterThan(150);
    expect([...graph.values()].reduce((n, targets) => n + targets.size, 0)).toBeGreaterThan(500);
  });

  it('no cycle between files', () => {
    expect(findCycle(graph)?.map(rel)).toBeUndefined();
  });

  it('no cycle between folders', () => {
    const folders = new Map<string, Set<string>>();
    for (const [file, targets] of graph) {
      const from = rel(dirname(file));
      for (const target of targets) {
        const to = rel(dirname(target));
        if (to === from) continue;
        if (!folders.has(from)) folders.set(from, new Set());
        folders.get(from)!.add(to);
      }
    }
    expect(findCycle(folders)).toBeUndefined();
  });

  it('the bottom of lambda/ (domain) imports nothing else of the project', () => {
    for (const [file, targets] of graph) {
      if (!rel(file).startsWith('lambda/domain/')) continue;
      for (const target of targets) expect(rel(target), rel(file)).toMatch(/^lambda\/domain\//);
    }
  });

  it('the poll cycle talks to the world only through the ports', () => {
    for (const [file, targets] of graph) {
      if (!rel(file).startsWith('lambda/poller/')) continue;
      for (const target of targets) expect(rel(target), rel(file)).toMatch(/^lambda\/(domain|poller)\//);
    }
  });
});
