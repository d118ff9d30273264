/**
 * The file-tree plugin family: the Hoard::FileSystem::Directory protectable and the `hoard.io/directory`
 * protection plugin: protect, restore and delete through the hook context's data handle
 * (./operations.ts); the schemas below are what plans and restores are validated against.
 *
 * Restores write in place or to another path inside the configured roots; given SFTP access (the
 * composition root passes the ssh hooks' one), they may also go to another host: restore_target
 * `sftp://user@host[:port]` or `ssh://…`, with restore_auth of type `ssh` (host_key required) and
 * `restore_path` the directory on that host (remote-restore.ts).
 */
import { Type } from '@sinclair/typebox';
import { SDK_VERSION, type ProtectionPlugin } from '../sdk/index.js';
import { directoryOperation } from './operations.js';
import { DIRECTORY_TYPE } from './protectable.js';
import type { RemoteOptions } from './remote-restore.js';
import { REMOTE_SCHEMES, remoteLogin } from './remote-target.js';

export { confinedPath, directoryProtectable, directoryId, DIRECTORY_TYPE } from './protectable.js';
export type { RemoteAccess, RemoteOptions } from './remote-restore.js';
export type { RemoteLogin } from './remote-target.js';

/**
 * directoryPlugin is the plugin for the given roots: local restores write only inside them. With
 * `remote`, it also restores to sftp:// and ssh:// targets; without, it declares no restore targets.
 */
export const directoryPlugin = (roots: readonly string[], remote?: RemoteOptions): ProtectionPlugin => ({
  name: 'hoard.io/directory',
  sdkVersion: SDK_VERSION,
  resourceTypes: [DIRECTORY_TYPE],
  capabilities: { incremental: true, granularRestore: true, verify: true, copy: true, quiesce: false },
  restoreTargets: remote ? REMOTE_SCHEMES : [],
  checkRestoreTarget(target, auth) {
    const login = remoteLogin(target, auth);
    return typeof login === 'string' ? login : undefined;
  },
  schemas: {
    options: Type.Object({
      exclude: Type.Optional(Type.String({
        title: 'Exclude',
        description: 'Comma-separated glob patterns of paths to leave out: a bare name matches at any depth (*.tmp), a slash anchors at the directory (/cache, logs/*.gz), a trailing slash matches directories only (build/)',
      })),
      one_file_system: Type.Optional(Type.Boolean({ title: 'Stay on one file system', description: 'Keep mount points below the directory as empty directories', default: false })),
    }, { additionalProperties: false }),
    restore: Type.Object({
      restore_path: Type.Optional(Type.String({ title: 'Restore path', description: 'Directory to restore into (on the restore_target host when one is given); the original path when omitted' })),
      conflict: Type.Optional(Type.Union([Type.Literal('fail'), Type.Literal('skip'), Type.Literal('overwrite')], { title: 'On conflict', default: 'fail' })),
      include: Type.Optional(Type.String({ title: 'Include', description: 'Comma-separated glob patterns to restore (granular restore), as exclude reads them; the directories leading to each match are created' })),
    }, { additionalProperties: false }),
    savedInfo: Type.Object({
      files: Type.Optional(Type.Integer()),
      bytes: Type.Optional(Type.Integer()),
      snapshot: Type.Optional(Type.String()),
      copiedFrom: Type.Optional(Type.String()),
    }),
  },
  operation: (kind, type) => (type === DIRECTORY_TYPE ? directoryOperation(kind, roots, remote) : undefined),
});
