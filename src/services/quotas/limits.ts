/**
 * Effective quota limits: a project's own limit, else the `default` quota class, else configuration.
 * enforce() is called inside the transaction that creates the object, after the project lock, so two
 * concurrent creates cannot both slip under the limit.
 */
import type { Kysely } from 'kysely';
import { HoardError } from '../../model/errors.js';
import type { Database } from '../../store/index.js';
import * as quotas from '../../store/quotas.js';
import type { Config } from '../../config/index.js';

export const QUOTA_RESOURCES = ['plans', 'checkpoints'] as const;
export type QuotaResource = (typeof QUOTA_RESOURCES)[number];

export async function defaultLimits(db: Kysely<Database>, config: Config): Promise<Record<QuotaResource, number>> {
  const cls = await quotas.classLimits(db, 'default');
  return { plans: cls.plans ?? config.quotas.plans, checkpoints: cls.checkpoints ?? config.quotas.checkpoints };
}

export async function effectiveLimits(db: Kysely<Database>, config: Config, projectId: string): Promise<Record<QuotaResource, number>> {
  const [own, defaults] = await Promise.all([quotas.projectLimits(db, projectId), defaultLimits(db, config)]);
  return { plans: own.plans ?? defaults.plans, checkpoints: own.checkpoints ?? defaults.checkpoints };
}

export async function enforce(db: Kysely<Database>, config: Config, projectId: string, resource: QuotaResource, inUse: number): Promise<void> {
  const limit = (await effectiveLimits(db, config, projectId))[resource];
  if (limit >= 0 && inUse + 1 > limit) {
    throw new HoardError('quota_exceeded', `Quota exceeded for ${resource}: project ${projectId} has ${inUse} of ${limit} allowed. Ask an admin to raise the quota or delete unused ${resource}.`);
  }
}
