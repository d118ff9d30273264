/**
 * The file-tree plugin family: the Hoard::FileSystem::Directory protectable and the `hoard.io/directory`
 * protection plugin: protect, restore and delete through the hook context's data handle
 * (./operations.ts); the schemas below are what plans and restores are validated against.
 */
import { Type } from '@sinclair/typebox';
import { SDK_VERSION, type ProtectionPlugin } from '../sdk/index.js';
import { directoryOperation } from './operations.js';
import { DIRECTORY_TYPE } from './protectable.js';

export { confinedPath, directoryProtectable, directoryId, DIRECTORY_TYPE } from './protectable.js';

/** directoryPlugin is the plugin for the given roots: restores write only inside them. */
export const directoryPlugin = (roots: readonly string[]): ProtectionPlugin => ({
  name: 'hoard.io/directory',
  sdkVersion: SDK_VERSION,
  resourceTypes: [DIRECTORY_TYPE],
  capabilities: { incremental: true, granularRestore: true, verify: true, copy: true, quiesce: false },
  schemas: {
    options: Type.Object({
      exclude: Type.Optional(Type.String({ title: 'Exclude', description: 'Comma-separated glob patterns of paths to leave out' })),
      one_file_system: Type.Optional(Type.Boolean({ title: 'Stay on one file system', default: false })),
    }, { additionalProperties: false }),
    restore: Type.Object({
      restore_path: Type.Optional(Type.String({ title: 'Restore path', description: 'Directory to restore into; the original path when omitted' })),
      conflict: Type.Optional(Type.Union([Type.Literal('fail'), Type.Literal('skip'), Type.Literal('overwrite')], { title: 'On conflict', default: 'fail' })),
      include: Type.Optional(Type.String({ title: 'Include', description: 'Comma-separated glob patterns to restore (granular restore)' })),
    }, { additionalProperties: false }),
    savedInfo: Type.Object({
      files: Type.Optional(Type.Integer()),
      bytes: Type.Optional(Type.Integer()),
      snapshot: Type.Optional(Type.String()),
      copiedFrom: Type.Optional(Type.String()),
    }),
  },
  operation: (kind, type) => (type === DIRECTORY_TYPE ? directoryOperation(kind, roots) : undefined),
});
