/**
 * reindex rebuilds the metadata database's checkpoint index from a bank's checkpoint records, so a bank
 * attached to a fresh deployment lists and restores its checkpoints (ARCHITECTURE decision 1).
 *
 * Rows that already exist are left alone: in a running deployment the database is ahead of the bank
 * (a delete in progress, say), never behind it. A checkpoint whose plan is unknown here gets its plan
 * back, `suspended`, from the plan as the checkpoint recorded it, so restores and retention have a plan
 * to hang on and nothing is protected on a schedule until someone starts it.
 */
import type { CheckpointRecords, StoredCheckpoint } from '../../bank/records/index.js';
import { CHECKPOINT_STATUSES, getCheckpoint, insertCheckpoint, type CheckpointPlanRecord, type CheckpointStatus } from '../../store/checkpoints.js';
import type { Store } from '../../store/index.js';
import { putResourceMetadata } from '../../store/operations.js';
import { getPlan, insertPlan } from '../../store/plans.js';
import { ensureProject } from '../../store/tokens.js';

export interface ReindexResult {
  /** checkpoints added to the index */
  readonly added: string[];
  /** checkpoints the index already had */
  readonly present: string[];
  /** plans recreated (suspended) for added checkpoints */
  readonly plansRecreated: string[];
  /** records that could not be read, with why; the rest is indexed regardless */
  readonly unreadable: { id: string; reason: string }[];
}

export interface ReindexOptions {
  /** providerId, when given, must be the provider the records say; others are skipped as unreadable. */
  readonly providerId?: string;
  readonly dryRun?: boolean;
}

export async function reindex(store: Store, records: CheckpointRecords, opts: ReindexOptions = {}): Promise<ReindexResult> {
  const result: ReindexResult = { added: [], present: [], plansRecreated: [], unreadable: [] };
  for (const id of await records.ids()) {
    let stored: StoredCheckpoint | undefined;
    try {
      stored = await records.read(id);
    } catch (err) {
      result.unreadable.push({ id, reason: (err as Error).message });
      continue;
    }
    // An index marker without a manifest is a removal that was interrupted; nothing to index.
    if (!stored) continue;
    const m = stored.manifest;
    if (opts.providerId !== undefined && m.providerId !== opts.providerId) {
      result.unreadable.push({ id, reason: `recorded for provider ${m.providerId}, not ${opts.providerId}` });
      continue;
    }
    if (!(CHECKPOINT_STATUSES as readonly string[]).includes(stored.status)) {
      result.unreadable.push({ id, reason: `unknown status ${JSON.stringify(stored.status)}` });
      continue;
    }
    if (await getCheckpoint(store.db, id)) {
      result.present.push(id);
      continue;
    }
    const plan = m.protectionPlan as CheckpointPlanRecord;
    if (opts.dryRun) {
      if (!(await getPlan(store.db, m.planId)) && !result.plansRecreated.includes(m.planId)) result.plansRecreated.push(m.planId);
      result.added.push(id);
      continue;
    }
    const now = new Date().toISOString();
    await store.db.transaction().execute(async (trx) => {
      await ensureProject(trx, m.projectId, now);
      if (!(await getPlan(trx, m.planId))) {
        await insertPlan(trx, {
          id: m.planId, projectId: m.projectId, name: plan.name, description: `recreated from bank records of checkpoint ${id}`,
          providerId: m.providerId, status: 'suspended', parameters: {},
          resources: plan.resources.map((r) => ({ id: r.id, type: r.type, name: r.name, extraInfo: parseExtra(r.extraInfo) })),
          createdAt: now, updatedAt: now,
        });
        result.plansRecreated.push(m.planId);
      }
      await insertCheckpoint(trx, {
        id, projectId: m.projectId, providerId: m.providerId, planId: m.planId, status: stored.status as CheckpointStatus,
        protectionPlan: plan, resourceGraph: m.resourceGraph, extraInfo: m.extraInfo, createdAt: m.createdAt, updatedAt: stored.updatedAt,
      });
      for (const [key, value] of stored.resources) await putResourceMetadata(trx, id, key, JSON.stringify(value), now);
    });
    result.added.push(id);
  }
  return result;
}

function parseExtra(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
