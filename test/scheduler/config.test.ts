/**
 * The configuration file's `scheduler` section: read with its defaults, refused with a message naming the
 * bad key, and carried by the scheduler role into the running scheduler (here: the default misfire policy
 * of operations that name none).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig, loadConfig } from '../../src/config/index.js';
import { schedulerOptions, startScheduler } from '../../src/roles/scheduler.js';
import { DEFAULT_SCHEDULER_OPTIONS, type RunEvent } from '../../src/services/scheduler/index.js';
import { schedulerLab, type Lab } from './lab.js';

async function configFile(yaml: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hoard-config-'));
  const file = join(dir, 'hoard.yaml');
  await writeFile(file, `dataDir: ${dir}\n${yaml}`);
  return file;
}

describe('scheduler settings', () => {
  it('default to the scheduler\'s own defaults', () => {
    const { coalesceMs: _, ...defaults } = DEFAULT_SCHEDULER_OPTIONS;
    expect(schedulerOptions(defaultConfig().scheduler)).toEqual(defaults);
  });

  it('are read from the file, in seconds, each key optional', async () => {
    const c = loadConfig(await configFile(`scheduler:
  tickSeconds: 0.5
  jitter:
    windowFraction: 0.1
  misfire: skip
  batch: 50
`), {});
    expect(c.scheduler).toEqual({ ...defaultConfig().scheduler, tickSeconds: 0.5, jitter: { maxSeconds: 300, windowFraction: 0.1 }, misfire: 'skip', batch: 50 });
    expect(schedulerOptions(c.scheduler)).toMatchObject({ pollMs: 500, jitter: { maxMs: 300_000, windowFraction: 0.1 }, misfire: 'skip', batch: 50 });
  });

  it.each([
    ['tickSecond: 1', 'scheduler.tickSecond is not a scheduler setting'],
    ['tickSeconds: "1"', 'scheduler.tickSeconds must be a number from 0.05 to 60'],
    ['tickSeconds: 0', 'scheduler.tickSeconds must be a number'],
    ['batch: 2.5', 'scheduler.batch must be an integer from 1 to 10000'],
    ['concurrency: 0', 'scheduler.concurrency must be an integer'],
    ['staleClaimSeconds: 5', 'scheduler.staleClaimSeconds must be a number from 60'],
    ['misfire: always', 'scheduler.misfire must be run-once or skip (got "always")'],
    ['jitter: 30', 'scheduler.jitter must be a mapping'],
    ['jitter:\n    windowFraction: 1.5', 'scheduler.jitter.windowFraction must be a number from 0 to 0.9'],
    ['jitter:\n    max: 10', 'scheduler.jitter.max is not a scheduler setting'],
  ])('refuses %j naming the key', async (setting, message) => {
    const file = await configFile(`scheduler:\n  ${setting}\n`);
    expect(() => loadConfig(file, {})).toThrow(message);
  });

  it('refuses a scheduler section that is not a mapping', async () => {
    expect(() => loadConfig(undefined, {})).not.toThrow();
    const file = await configFile('scheduler: fast\n');
    expect(() => loadConfig(file, {})).toThrow('Invalid configuration: scheduler must be a mapping');
  });
});

describe('the scheduler role', () => {
  let lab: Lab;
  afterEach(() => lab.close());

  it('applies the configured default misfire policy to operations that name none', async () => {
    // tickSeconds 60: the role's own loop ticks once at start and then sleeps; the test ticks it itself.
    lab = await schedulerLab('sqlite', '2030-01-01T00:00:30Z', (c) => ({ ...c, scheduler: { ...c.scheduler, misfire: 'skip', tickSeconds: 60 } }));
    const unnamed = await lab.operation();
    const named = await lab.operation({ misfire: 'run-once' });
    const events: RunEvent[] = [];
    const role = startScheduler(lab.hoard, { clock: lab.clock, onRun: (e) => events.push(e) });
    try {
      await role.scheduler.tick(); // joins the loop's first tick, if it is still running
      lab.clock.set('2030-01-01T05:30:00Z');
      await role.scheduler.tick();
    } finally {
      await role.stop();
    }
    expect((await lab.logsOf(unnamed.id)).map((l) => [l.status, l.extraInfo?.reason])).toEqual([['skipped', 'misfire_skip']]);
    expect((await lab.logsOf(named.id)).map((l) => [l.status, l.extraInfo?.reason])).toEqual([['success', 'misfire_run_once']]);
    expect(events).toHaveLength(2);
  });
});
