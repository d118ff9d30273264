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

/** QUOTA_RESOURCES are the resources Karbor counts against a quota. */
export const QUOTA_RESOURCES = ['plans', 'checkpoints'] as const;
/** QuotaResource is one of QUOTA_RESOURCES. */
export type QuotaResource = (typeof QUOTA_RESOURCES)[number];
/** QuotaLimits holds one hard limit per resource; -1 means unlimited. */
export type QuotaLimits = Record<QuotaResource, number>;

/** classDefaults is what a quota class without its own row for a resource falls back to. */
function classDefaults(config: Config): QuotaLimits {
  return { plans: config.quotas.plans, checkpoints: config.quotas.checkpoints };
}

/** classEffectiveLimits is a quota class's own limits, completed from the `default` class and configuration. */
export async function classEffectiveLimits(db: Kysely<Database>, config: Config, className: string): Promise<QuotaLimits> {
  const fallback = className === 'default' ? classDefaults(config) : await defaultLimits(db, config);
  const own = await quotas.classLimits(db, className);
  return { plans: own.plans ?? fallback.plans, checkpoints: own.checkpoints ?? fallback.checkpoints };
}

/** defaultLimits is what a project without its own quota gets: the `default` class, else configuration. */
export async function defaultLimits(db: Kysely<Database>, config: Config): Promise<QuotaLimits> {
  return classEffectiveLimits(db, config, 'default');
}

/** effectiveLimits is the limit that applies to a project right now. */
export async function effectiveLimits(db: Kysely<Database>, config: Config, projectId: string): Promise<QuotaLimits> {
  const [own, defaults] = await Promise.all([quotas.projectLimits(db, projectId), defaultLimits(db, config)]);
  return { plans: own.plans ?? defaults.plans, checkpoints: own.checkpoints ?? defaults.checkpoints };
}

/** enforce refuses (413) one more `resource` for a project already holding `inUse` of them (a count, or how to count). */
export async function enforce(db: Kysely<Database>, config: Config, projectId: string, resource: QuotaResource, inUse: number | (() => Promise<number>)): Promise<void> {
  const limit = (await effectiveLimits(db, config, projectId))[resource];
  // Counting is the costly part (every scheduled checkpoint pays it); an unlimited quota needs no count.
  if (limit < 0) return;
  const used = typeof inUse === 'number' ? inUse : await inUse();
  if (used + 1 > limit) {
    throw new HoardError('quota_exceeded', `Quota exceeded for ${resource}: project ${projectId} has ${used} of ${limit} allowed. Ask an admin to raise the quota or delete unused ${resource}.`);
  }
}
