/**
 * Layer rules from ARCHITECTURE.md: data flows down, nothing below imports from above.
 * api|cli → services → engine → plugins → bank → store; model and util are imported by all and import
 * nothing of Hoard's; only roles/ (the composition root) knows concrete plugins and backends.
 */
const layer = (name, forbidden) => ({
  name: `${name}-imports-up`,
  severity: 'error',
  comment: `${name} must not import from ${forbidden.join(', ')}`,
  from: { path: `^src/${name}/` },
  to: { path: `^src/(${forbidden.join('|')})/` },
});

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    { name: 'no-test-code-in-src', severity: 'error', from: { path: '^src/', pathNot: '\\.test\\.ts$' }, to: { path: '(^test/|testing\\.ts$)' } },
    layer('model', ['util', 'store', 'bank', 'plugins', 'engine', 'services', 'api', 'cli', 'roles', 'config']),
    layer('util', ['model', 'store', 'bank', 'plugins', 'engine', 'services', 'api', 'cli', 'roles', 'config']),
    layer('config', ['store', 'bank', 'plugins', 'engine', 'services', 'api', 'cli', 'roles']),
    layer('store', ['bank', 'plugins', 'engine', 'services', 'api', 'cli', 'roles']),
    layer('bank', ['plugins', 'engine', 'services', 'api', 'cli', 'roles']),
    layer('plugins', ['store', 'engine', 'services', 'api', 'cli', 'roles']),
    layer('engine', ['services', 'api', 'cli', 'roles']),
    layer('services', ['api', 'cli', 'roles']),
    layer('api', ['cli', 'roles']),
    {
      name: 'plugins-only-through-sdk',
      severity: 'error',
      comment: 'a plugin family imports the SDK, model and util, never another family',
      from: { path: '^src/plugins/([^/]+)/' },
      to: { path: '^src/plugins/([^/]+)/', pathNot: ['^src/plugins/$1/', '^src/plugins/sdk/'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
