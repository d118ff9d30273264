/**
 * progressView is the `progress` field Hoard adds to a checkpoint or restore it shows by id: the engine's
 * truthful counts (hooks known before work starts; items and bytes as plugins report them), overall and
 * per resource, plus the failing reason. The Karbor client ignores fields it does not know.
 */
import type { OperationProgress } from '../../services/checkpoints/index.js';

export function progressView(p: OperationProgress | undefined): Record<string, unknown> | undefined {
  if (!p) return undefined;
  return {
    operation_id: p.operationId,
    status: p.status,
    error: p.error,
    overall: snake(p.overall),
    resources: p.resources.map((r) => snake(r)),
  };
}

function snake(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]));
}
