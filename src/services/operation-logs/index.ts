/**
 * Operation logs: the history of protect, delete, restore, verify and copy runs. The protection engine
 * starts a log with record() when a flow is built and finishes it with update() when the flow ends;
 * users only read them. Another project's log is reported as missing, like plans.
 */
import type { Caller, ListQuery } from '../../model/caller.js';
import { canSee } from '../../model/caller.js';
import { HoardError, notFound } from '../../model/errors.js';
import { operationLogs } from '../../store/index.js';
import type { OperationLogRecord } from '../../store/operation-logs.js';
import { storedTime } from '../../util/clock.js';
import { isUuid, newId } from '../../util/ids.js';
import type { ServiceDeps } from '../context.js';
import { eq, toPageQuery, withMarker } from '../paging.js';

export type { OperationLogRecord } from '../../store/operation-logs.js';

/** OPERATION_TYPES are the runs a log can describe; Karbor logged deletes as `protect`, Hoard says `delete`. */
export const OPERATION_TYPES = ['protect', 'delete', 'restore', 'verify', 'copy'] as const;
/** OperationType is one of OPERATION_TYPES. */
export type OperationType = (typeof OPERATION_TYPES)[number];

/**
 * OPERATION_LOG_FILTERS are the list filters every caller may use (admins add project_id). Karbor's are
 * checkpoint_id, plan_id, restore_id and status; operation_type and scheduled_operation_id (the runs of
 * one scheduled operation, and the protects they started) are Hoard's.
 */
export const OPERATION_LOG_FILTERS = ['checkpoint_id', 'plan_id', 'restore_id', 'status', 'operation_type', 'scheduled_operation_id'] as const;

/** OperationLogStart describes a run as it begins. */
export interface OperationLogStart {
  readonly projectId: string;
  readonly operationType: OperationType;
  readonly status: string;
  readonly checkpointId?: string | null;
  readonly planId?: string | null;
  readonly providerId?: string | null;
  readonly restoreId?: string | null;
  readonly scheduledOperationId?: string | null;
  readonly extraInfo?: Record<string, unknown> | null;
}

/** OperationLogEnd is a run's outcome; `final: false` records a status change without ending the log. */
export interface OperationLogEnd {
  readonly status: string;
  readonly errorInfo?: string | null;
  readonly extraInfo?: Record<string, unknown> | null;
  readonly final?: boolean;
}

/** OperationLogService writes logs for the protection engine and reads them for users. */
export interface OperationLogService {
  record(start: OperationLogStart): Promise<OperationLogRecord>;
  update(id: string, end: OperationLogEnd): Promise<OperationLogRecord>;
  list(caller: Caller, q: ListQuery): Promise<OperationLogRecord[]>;
  get(caller: Caller, id: string): Promise<OperationLogRecord>;
}

/** operationLogService builds the OperationLogService. */
export function operationLogService(deps: ServiceDeps): OperationLogService {
  const { store, clock } = deps;

  return {
    async record(start) {
      if (!(OPERATION_TYPES as readonly string[]).includes(start.operationType)) {
        throw new HoardError('invalid_field', `Operation type ${start.operationType} is not one of ${OPERATION_TYPES.join(', ')}.`);
      }
      const now = storedTime(clock.now());
      const log: OperationLogRecord = {
        id: newId(),
        projectId: start.projectId,
        operationType: start.operationType,
        checkpointId: start.checkpointId ?? null,
        planId: start.planId ?? null,
        providerId: start.providerId ?? null,
        restoreId: start.restoreId ?? null,
        scheduledOperationId: start.scheduledOperationId ?? null,
        status: start.status,
        startedAt: now,
        endedAt: null,
        errorInfo: null,
        extraInfo: start.extraInfo ?? null,
        createdAt: now,
      };
      await operationLogs.insertLog(store.db, log);
      return log;
    },

    async update(id, end) {
      const updated = await operationLogs.updateLog(store.db, id, {
        status: end.status,
        ...(end.final === false ? {} : { endedAt: storedTime(clock.now()) }),
        ...(end.errorInfo !== undefined ? { errorInfo: end.errorInfo } : {}),
        ...(end.extraInfo !== undefined ? { extraInfo: end.extraInfo } : {}),
      });
      if (!updated) throw notFound('operation log', id);
      return updated;
    },

    list(caller, q) {
      const operation = q.filters.scheduled_operation_id;
      if (operation !== undefined && !isUuid(operation)) {
        throw new HoardError('invalid_filter', `scheduled_operation_id ${JSON.stringify(operation.slice(0, 64))} is not a scheduled operation id (a UUID).`);
      }
      const page = toPageQuery(caller, q, Object.fromEntries(OPERATION_LOG_FILTERS.map((f) => [f, eq(f)])));
      return withMarker(q.marker, () => operationLogs.listLogs(store.db, page));
    },

    async get(caller, id) {
      if (!isUuid(id)) throw new HoardError('invalid_id', `Invalid operation log id ${id}: an operation log id is a UUID.`);
      const log = await operationLogs.getLog(store.db, id);
      // Another project's log is reported exactly like a missing one, so ids cannot be probed.
      if (!log || !canSee(caller, log.projectId)) throw notFound('operation log', id);
      return log;
    },
  };
}
