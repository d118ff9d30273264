/**
 * Quotas: per-project hard limits on plans and checkpoints, and quota classes (`default` supplies the
 * defaults). Anyone may read their own project's quota; only admins read other projects' or change any.
 * A limit may be set below current usage: existing objects stay, further creates get 413.
 */
import type { Caller } from '../../model/caller.js';
import { HoardError } from '../../model/errors.js';
import { plans, quotas } from '../../store/index.js';
import { isProjectId } from '../../util/ids.js';
import type { ServiceDeps } from '../context.js';
import { classEffectiveLimits, defaultLimits, effectiveLimits, QUOTA_RESOURCES, type QuotaLimits, type QuotaResource } from './limits.js';

/** QuotaUsage is one resource's line of `quota-show --detail`. */
export interface QuotaUsage {
  readonly limit: number;
  readonly inUse: number;
  readonly reserved: number;
}

/** QuotaChanges are the limits a PUT sets; resources left out keep theirs. */
export type QuotaChanges = Partial<Record<QuotaResource, number>>;

/** QuotaService reads and sets project quotas and quota classes. */
export interface QuotaService {
  show(caller: Caller, projectId: string): Promise<QuotaLimits>;
  detail(caller: Caller, projectId: string): Promise<Record<QuotaResource, QuotaUsage>>;
  defaults(caller: Caller, projectId: string): Promise<QuotaLimits>;
  update(caller: Caller, projectId: string, changes: QuotaChanges): Promise<QuotaLimits>;
  reset(caller: Caller, projectId: string): Promise<void>;
  showClass(caller: Caller, className: string): Promise<QuotaLimits>;
  updateClass(caller: Caller, className: string, changes: QuotaChanges): Promise<QuotaLimits>;
}

/** The largest limit both engines store in an `integer` column. */
const MAX_LIMIT = 2_147_483_647;
const CLASS_NAME_RE = /^[A-Za-z0-9_.-]{1,255}$/;

/** quotaService builds the QuotaService. */
export function quotaService(deps: ServiceDeps): QuotaService {
  const { store, config } = deps;
  const db = store.db;

  const readable = (caller: Caller, projectId: string): void => {
    checkProject(projectId);
    if (!caller.isAdmin && caller.projectId !== projectId) {
      throw new HoardError('forbidden', `Only an admin may see the quotas of project ${projectId}; your token is for project ${caller.projectId}.`);
    }
  };

  const usage = async (projectId: string): Promise<Record<QuotaResource, number>> => {
    const [p, c] = await Promise.all([plans.countPlans(db, projectId), quotas.countCheckpoints(db, projectId)]);
    return { plans: p, checkpoints: c };
  };

  return {
    async show(caller, projectId) {
      readable(caller, projectId);
      return effectiveLimits(db, config, projectId);
    },

    async detail(caller, projectId) {
      readable(caller, projectId);
      const [limits, used] = await Promise.all([effectiveLimits(db, config, projectId), usage(projectId)]);
      const line = (r: QuotaResource): QuotaUsage => ({ limit: limits[r], inUse: used[r], reserved: 0 });
      return { plans: line('plans'), checkpoints: line('checkpoints') };
    },

    async defaults(caller, projectId) {
      readable(caller, projectId);
      return defaultLimits(db, config);
    },

    async update(caller, projectId, changes) {
      checkProject(projectId);
      requireAdmin(caller, `change the quotas of project ${projectId}`);
      checkChanges(changes);
      await db.transaction().execute(async (trx) => {
        for (const [r, limit] of entries(changes)) await quotas.setProjectLimit(trx, projectId, r, limit);
      });
      return effectiveLimits(db, config, projectId);
    },

    async reset(caller, projectId) {
      checkProject(projectId);
      requireAdmin(caller, `reset the quotas of project ${projectId}`);
      await quotas.deleteProjectLimits(db, projectId);
    },

    async showClass(_caller, className) {
      checkClassName(className);
      return classEffectiveLimits(db, config, className);
    },

    async updateClass(caller, className, changes) {
      checkClassName(className);
      requireAdmin(caller, `change quota class ${className}`);
      checkChanges(changes);
      await db.transaction().execute(async (trx) => {
        for (const [r, limit] of entries(changes)) await quotas.setClassLimit(trx, className, r, limit);
      });
      return classEffectiveLimits(db, config, className);
    },
  };
}

function checkProject(projectId: string): void {
  if (!isProjectId(projectId)) throw new HoardError('invalid_id', `${JSON.stringify(projectId.slice(0, 64))} is not a project id.`);
}

function checkClassName(name: string): void {
  if (!CLASS_NAME_RE.test(name)) throw new HoardError('invalid_id', `${JSON.stringify(name.slice(0, 64))} is not a quota class name (letters, digits, '_', '.', '-').`);
}

function requireAdmin(caller: Caller, what: string): void {
  if (!caller.isAdmin) throw new HoardError('forbidden', `Only an admin may ${what}.`);
}

/** checkChanges repeats the route's schema so that callers other than the API get the same answers. */
function checkChanges(changes: QuotaChanges): void {
  for (const [key, value] of Object.entries(changes)) {
    if (!(QUOTA_RESOURCES as readonly string[]).includes(key)) {
      throw new HoardError('unknown_field', `Unknown quota ${key}; quotas are ${QUOTA_RESOURCES.join(', ')}.`);
    }
    if (!Number.isInteger(value) || (value as number) < -1 || (value as number) > MAX_LIMIT) {
      throw new HoardError('invalid_field', `Quota ${key} must be an integer from -1 (unlimited) to ${MAX_LIMIT}, not ${JSON.stringify(value)}.`);
    }
  }
}

function entries(changes: QuotaChanges): [QuotaResource, number][] {
  return QUOTA_RESOURCES.flatMap((r) => (changes[r] === undefined ? [] : [[r, changes[r]] as [QuotaResource, number]]));
}
