/**
 * Re-renders the tables of the last bench run from bench/results.json without measuring again:
 *   npx tsx bench/summary.ts [--markdown] [file]
 */
import { renderReport } from './report';
import { readResults } from './results';

const args = process.argv.slice(2);
const markdown = args.includes('--markdown');
const file = args.find((a) => !a.startsWith('--')) ?? 'bench/results.json';
process.stdout.write(`${renderReport(readResults(file), markdown ? 'markdown' : 'text')}\n`);
