/**
 * The cost part of the bench alone, without measuring again: the measured figures of the last
 * bench run (bench/results.json: DynamoDB units and log bytes per run, per-event counts), the
 * resource counts of the synthesized stacks (the config, with optional items off, and with 50
 * sources), the poller's memory, run length and default poll interval from the code — into the
 * cost model, printed like `npm run bench` prints it. `--write-docs` also rewrites docs/DEPLOY.md
 * section 7 between its markers.
 *   npx tsx bench/cost-run.ts [--config config/example.yaml] [--results bench/results.json] [--write-docs]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { machineLine } from './lib/machine';
import { readResults } from './results';
import { stackInventory } from './cost/inventory';
import type { CostModel } from './cost/model';
import { costModelOf } from './cost-inputs';
import { renderDeployCostSection, renderDeploymentCost, replaceBetweenMarkers } from './cost/render';

const DEPLOY_GUIDE = 'docs/DEPLOY.md';

const flags = new Command()
  .name('npx tsx bench/cost-run.ts')
  .option('--config <file>', 'deployment config whose stack is counted', 'config/example.yaml')
  .option('--results <file>', 'the bench run whose measured figures are used', 'bench/results.json')
  .option('--write-docs', `rewrite ${DEPLOY_GUIDE} section 7 between its markers`, false)
  .parse()
  .opts<{ config: string; results: string; writeDocs: boolean }>();

const results = readResults(flags.results);
const cost: CostModel = costModelOf(results.idle, results.burst, stackInventory(flags.config));

process.stdout.write(`${renderDeploymentCost(cost, flags.config, 'text').join('\n')}\n`);
if (flags.writeDocs) {
  const guide = readFileSync(DEPLOY_GUIDE, 'utf8');
  const body = renderDeployCostSection(cost, flags.config, {
    when: results.machine.date.slice(0, 10),
    machine: machineLine(results.machine),
  });
  writeFileSync(DEPLOY_GUIDE, replaceBetweenMarkers(guide, body));
  process.stdout.write(`\nrewrote ${DEPLOY_GUIDE} section 7 from ${flags.results} and ${flags.config}\n`);
}
