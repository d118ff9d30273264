import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['test/openstack/**', 'node_modules/**'],
    // Generous: the Karbor CLI costs seconds per call on a loaded 2-core machine; a hang still fails.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
