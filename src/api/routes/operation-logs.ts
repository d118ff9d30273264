/** Karbor's operation log routes: read-only; the protection engine writes logs through the service. */
import type { FastifyPluginAsync } from 'fastify';
import type { OperationLogRecord } from '../../services/operation-logs/index.js';
import { OPERATION_LOG_FILTERS } from '../../services/operation-logs/index.js';
import type { Services } from '../../services/index.js';
import { karborTimestamp } from '../../util/clock.js';
import { listQuery, withLinks } from './common.js';

const SORT_KEYS = ['id', 'status', 'operation_type', 'started_at', 'ended_at', 'created_at'] as const;

const timestamp = (t: string | null): string | null => (t === null ? null : karborTimestamp(new Date(t)));

/**
 * operationLogView is Karbor's OL shape. `extra_info` goes out as a JSON string because Karbor's column
 * was text, like a checkpoint's extra_info.
 */
export function operationLogView(l: OperationLogRecord): Record<string, unknown> {
  return {
    id: l.id,
    operation_type: l.operationType,
    checkpoint_id: l.checkpointId,
    plan_id: l.planId,
    provider_id: l.providerId,
    restore_id: l.restoreId,
    scheduled_operation_id: l.scheduledOperationId,
    status: l.status,
    started_at: timestamp(l.startedAt),
    ended_at: timestamp(l.endedAt),
    error_info: l.errorInfo,
    extra_info: l.extraInfo === null ? null : JSON.stringify(l.extraInfo),
  };
}

/** operationLogRoutes registers list and show. */
export function operationLogRoutes(services: Services): FastifyPluginAsync {
  return async (app) => {
    app.get('/operation_logs', async (req) => {
      const q = listQuery(req.query, services, [...OPERATION_LOG_FILTERS, 'project_id'], SORT_KEYS);
      const items = await services.operationLogs.list(req.caller, q);
      return withLinks(req, services, 'operation_logs', items, items.map(operationLogView), q);
    });
    app.get<{ Params: { operation_log_id: string } }>('/operation_logs/:operation_log_id', async (req) => ({
      operation_log: operationLogView(await services.operationLogs.get(req.caller, req.params.operation_log_id)),
    }));
  };
}
