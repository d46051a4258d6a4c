/**
 * The poller of the shipped example deployment (config/example.yaml) runs at 128 MB, with the
 * heap limits `npm run bench` measured its 1,000-event burst under (bench/sections/burst.ts).
 */
import { describe, expect, it } from 'vitest';
import { loadDeploymentConfig } from '../../infra/config/deployment';
import { POLLER_MEMORY_MB, POLLER_NODE_OPTIONS } from '../../infra/constructs/poller';
import { synthesize } from './support';

describe('the poller of config/example.yaml', () => {
  const example = synthesize(loadDeploymentConfig('config/example.yaml'), { bundle: false });
  const pollers = Object.values(
    example.template.findResources('AWS::Lambda::Function', {
      Properties: { Description: 'Polls the QR-menu servers for guest events and alerts the staff' },
    }),
  );

  it('has MemorySize 128', () => {
    expect(pollers.map((fn) => fn.Properties.MemorySize)).toEqual([128]);
    expect(POLLER_MEMORY_MB).toBe(128);
  });

  it("holds V8's heap to half of it, with source maps on", () => {
    expect(pollers.map((fn) => fn.Properties.Environment.Variables.NODE_OPTIONS)).toEqual([POLLER_NODE_OPTIONS]);
    expect(POLLER_NODE_OPTIONS).toBe('--enable-source-maps --max-semi-space-size=1 --max-old-space-size=64');
  });
});
