/**
 * Karbor's quota routes: `/quotas/{project}` (show, detail, defaults, update, delete) and
 * `/quota_classes/{name}`. The target project is a path segment of its own, apart from the URL's
 * project, because admins read and set other projects' quotas.
 */
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { Services } from '../../services/index.js';
import type { QuotaUsage } from '../../services/quotas/index.js';
import type { QuotaLimits, QuotaResource } from '../../services/quotas/limits.js';

const Limit = Type.Integer({ minimum: -1, maximum: 2_147_483_647 });
const Limits = Type.Object({ plans: Type.Optional(Limit), checkpoints: Type.Optional(Limit) }, { additionalProperties: false });
const QuotaBody = Type.Object({ quota: Limits }, { additionalProperties: false });
const QuotaClassBody = Type.Object({ quota_class: Limits }, { additionalProperties: false });

type Tenant = { Params: { tenant_id: string } };
type QuotaClass = { Params: { class_name: string } };

/** limitsView is a quota as Karbor shows it: the limits, plus the project or class it belongs to when asked. */
export function limitsView(l: QuotaLimits, id?: string): Record<string, unknown> {
  return { plans: l.plans, checkpoints: l.checkpoints, ...(id !== undefined ? { id } : {}) };
}

/** detailView is `quota-show --detail`: limit, in_use and reserved per resource. */
export function detailView(d: Record<QuotaResource, QuotaUsage>, id: string): Record<string, unknown> {
  const line = (u: QuotaUsage) => ({ limit: u.limit, in_use: u.inUse, reserved: u.reserved });
  return { plans: line(d.plans), checkpoints: line(d.checkpoints), id };
}

/** quotaRoutes registers the quota and quota class routes. */
export function quotaRoutes(services: Services): FastifyPluginAsync {
  const q = services.quotas;
  return async (app) => {
    app.get<Tenant>('/quotas/:tenant_id', async (req) => ({ quota: limitsView(await q.show(req.caller, req.params.tenant_id), req.params.tenant_id) }));
    app.get<Tenant>('/quotas/:tenant_id/detail', async (req) => ({ quota: detailView(await q.detail(req.caller, req.params.tenant_id), req.params.tenant_id) }));
    app.get<Tenant>('/quotas/:tenant_id/defaults', async (req) => ({ quota: limitsView(await q.defaults(req.caller, req.params.tenant_id), req.params.tenant_id) }));
    app.put<Tenant & { Body: Static<typeof QuotaBody> }>('/quotas/:tenant_id', { schema: { body: QuotaBody } }, async (req) => ({
      quota: limitsView(await q.update(req.caller, req.params.tenant_id, req.body.quota)),
    }));
    app.delete<Tenant>('/quotas/:tenant_id', async (req, reply) => {
      await q.reset(req.caller, req.params.tenant_id);
      return reply.code(200).type('application/json').send('');
    });

    app.get<QuotaClass>('/quota_classes/:class_name', async (req) => ({
      quota_class: limitsView(await q.showClass(req.caller, req.params.class_name), req.params.class_name),
    }));
    app.put<QuotaClass & { Body: Static<typeof QuotaClassBody> }>('/quota_classes/:class_name', { schema: { body: QuotaClassBody } }, async (req) => ({
      quota_class: limitsView(await q.updateClass(req.caller, req.params.class_name, req.body.quota_class)),
    }));
  };
}
