/**
 * Plain-text tables for the terminal (columns padded to their widest cell; numbers right-aligned)
 * and the same rows as a Markdown table for BENCHMARKS.md.
 */

export type Row = readonly string[];

const numeric = (cell: string): boolean => /^[-+≈$]?[\d.,]+( ?[a-zA-Z%/·µ]+)?$/.test(cell.trim());

export function textTable(header: Row, rows: readonly Row[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => [...(r[i] ?? '')].length)));
  const line = (row: Row) =>
    row
      .map((cell, i) => {
        const pad = widths[i]! - [...cell].length;
        return numeric(cell) && i > 0 ? ' '.repeat(pad) + cell : cell + ' '.repeat(pad);
      })
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function markdownTable(header: Row, rows: readonly Row[]): string {
  const escapeCell = (cell: string) => cell.replace(/\|/g, '\\|');
  return [
    `| ${header.map(escapeCell).join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(escapeCell).join(' | ')} |`),
  ].join('\n');
}

export function ms(value: number): string {
  return Number.isFinite(value) ? `${Math.round(value).toLocaleString('en-US')} ms` : 'n/a';
}

export function usd(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value >= 0.1 || value === 0) return `$${value.toFixed(2)}`;
  return value >= 0.001 ? `$${value.toFixed(4)}` : `$${value.toFixed(6)}`;
}
