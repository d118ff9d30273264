/**
 * Plans: what to protect (resources) with which provider and parameters. A plan is created
 * `suspended`; `started` lets its scheduled operations fire. Name, description, resources and parameters
 * change only while suspended (Karbor's rule), so a schedule never runs against a half-edited plan.
 */
import type { Caller, ListQuery } from '../../model/caller.js';
import { canSee } from '../../model/caller.js';
import { HoardError, notFound } from '../../model/errors.js';
import { lockProject, plans, type PlanRecord, type PlanResourceRecord } from '../../store/index.js';
import { storedTime } from '../../util/clock.js';
import { isUuid, newId } from '../../util/ids.js';
import type { ServiceDeps } from '../context.js';
import { checkParameters, type ParameterMap } from '../parameters.js';
import { parseHookSpec } from '../../plugins/hooks/index.js';
import { contains, eq, toPageQuery, withMarker } from '../paging.js';
import type { ProviderService } from '../providers/index.js';
import { enforce } from '../quotas/limits.js';

export interface PlanInput {
  readonly name: string;
  readonly description?: string | null;
  readonly provider_id: string;
  readonly resources: readonly { id: string; type: string; name: string; extra_info?: Record<string, unknown> | null }[];
  readonly parameters?: ParameterMap;
}

export interface PlanChanges {
  readonly name?: string;
  readonly description?: string | null;
  readonly resources?: PlanInput['resources'];
  readonly parameters?: ParameterMap;
  readonly status?: 'suspended' | 'started';
}

export interface PlanService {
  create(caller: Caller, input: PlanInput): Promise<PlanRecord>;
  list(caller: Caller, q: ListQuery): Promise<PlanRecord[]>;
  get(caller: Caller, id: string): Promise<PlanRecord>;
  update(caller: Caller, id: string, changes: PlanChanges): Promise<PlanRecord>;
  remove(caller: Caller, id: string): Promise<void>;
}

export const PLAN_FILTERS = ['name', 'description', 'status'] as const;

export function planService(deps: ServiceDeps, providers: ProviderService): PlanService {
  const { store, config, clock } = deps;

  const checkResources = async (caller: Caller, providerId: string, resources: PlanInput['resources']): Promise<PlanResourceRecord[]> => {
    const provider = providers.get(providerId);
    const seen = new Set<string>();
    const out: PlanResourceRecord[] = [];
    for (const r of resources) {
      if (!provider.resourceTypes.includes(r.type)) {
        throw new HoardError('invalid_field', `Resource ${r.id} has type ${r.type}, which provider ${provider.name} does not protect (it protects ${provider.resourceTypes.join(', ')}).`);
      }
      const key = `${r.type}#${r.id}`;
      if (seen.has(key)) throw new HoardError('invalid_field', `Resource ${key} is listed twice.`);
      seen.add(key);
      const found = await deps.registry.protectable(r.type).show({ projectId: caller.projectId, parameters: {} }, r.id);
      if (!found) throw new HoardError('invalid_field', `Resource ${r.type} ${r.id} (${r.name}) could not be found; list protectable instances to see what can be protected.`);
      out.push({ id: r.id, type: r.type, name: r.name, extraInfo: r.extra_info ?? null });
    }
    return out;
  };

  const checkParams = (providerId: string, params: ParameterMap | undefined): ParameterMap => {
    // Exec hooks come as an object or as JSON text (all the Karbor CLI can send); their rules are checked
    // first, for a message about the hooks rather than the schema's every alternative, and they are kept
    // parsed, so a plan shows (and the engine runs) exactly the hooks that were accepted.
    const parsed: ParameterMap = {};
    for (const [key, value] of Object.entries(params ?? {})) {
      if (value === null || typeof value !== 'object' || value.hooks === undefined) {
        parsed[key] = value;
        continue;
      }
      try {
        parsed[key] = { ...value, hooks: parseHookSpec(value.hooks) as unknown as Record<string, unknown> };
      } catch (err) {
        throw new HoardError('invalid_parameters', `Invalid exec hooks for ${key}: ${(err as Error).message}`);
      }
    }
    return checkParameters(parsed, providers.get(providerId).extendedInfoSchema.options_schema, 'options');
  };

  const load = async (caller: Caller, id: string): Promise<PlanRecord> => {
    if (!isUuid(id)) throw new HoardError('invalid_id', `Invalid plan id ${id}: a plan id is a UUID.`);
    const plan = await plans.getPlan(store.db, id);
    // Another project's plan is reported exactly like a missing one, so ids cannot be probed.
    if (!plan || !canSee(caller, plan.projectId)) throw notFound('plan', id);
    return plan;
  };

  return {
    async create(caller, input) {
      if (!isUuid(input.provider_id) || !providers.find(input.provider_id)) {
        throw new HoardError('provider_not_found_in_request', `The provider ${input.provider_id} could not be found.`);
      }
      if (!input.name.trim()) throw new HoardError('invalid_field', 'The plan name must not be blank.');
      const resources = await checkResources(caller, input.provider_id, input.resources);
      const now = storedTime(clock.now());
      const plan: PlanRecord = {
        id: newId(),
        projectId: caller.projectId,
        name: input.name,
        description: input.description ?? null,
        providerId: input.provider_id,
        status: 'suspended',
        parameters: checkParams(input.provider_id, input.parameters),
        resources,
        createdAt: now,
        updatedAt: now,
      };
      await store.db.transaction().execute(async (trx) => {
        await lockProject(trx, store.dialect, caller.projectId, 'plans');
        await enforce(trx, config, caller.projectId, 'plans', await plans.countPlans(trx, caller.projectId));
        await plans.insertPlan(trx, plan);
      });
      return plan;
    },

    list(caller, q) {
      const page = toPageQuery(caller, q, { name: contains('name'), description: contains('description'), status: eq('status') });
      return withMarker(q.marker, () => plans.listPlans(store.db, page));
    },

    get: load,

    async update(caller, id, changes) {
      const plan = await load(caller, id);
      const editsContent = changes.name !== undefined || changes.description !== undefined || changes.resources !== undefined || changes.parameters !== undefined;
      if (editsContent && plan.status !== 'suspended') {
        throw new HoardError('invalid_state', `Plan ${id} is started; suspend it (status "suspended") before changing its name, description, resources or parameters.`);
      }
      if (changes.name !== undefined && !changes.name.trim()) throw new HoardError('invalid_field', 'The plan name must not be blank.');
      const next: PlanRecord = {
        ...plan,
        name: changes.name ?? plan.name,
        description: changes.description !== undefined ? changes.description : plan.description,
        resources: changes.resources ? await checkResources(caller, plan.providerId, changes.resources) : plan.resources,
        parameters: changes.parameters ? checkParams(plan.providerId, changes.parameters) : plan.parameters,
        status: changes.status ?? plan.status,
        updatedAt: storedTime(clock.now()),
      };
      await store.db.transaction().execute((trx) => plans.updatePlanRow(trx, next));
      return next;
    },

    async remove(caller, id) {
      await load(caller, id);
      await store.db.transaction().execute(async (trx) => {
        const users = await trx.selectFrom('scheduled_operations').select('id').where('plan_id', '=', id).execute();
        if (users.length > 0) {
          throw new HoardError('conflict', `Plan ${id} is used by scheduled operation(s) ${users.map((u) => u.id).join(', ')}; delete them first.`);
        }
        await plans.deletePlanRow(trx, id);
      });
    },
  };
}
