import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { REASONS } from '../../src/model/errors.js';

it('docs/errors.md documents every reason code with its status', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  for (const [reason, status] of Object.entries(REASONS)) {
    expect(doc, reason).toMatch(new RegExp(`\\| \`${reason}\` \\| ${status} \\|`));
  }
});
