/**
 * The metadata database's tables as Kysely sees them. Portable on purpose: timestamps are ISO-8601 text
 * (sortable in both engines), JSON is text, booleans are 0/1 integers, so SQLite and PostgreSQL rows
 * read back identically.
 */
import type { Generated } from 'kysely';

export interface ProjectTable { id: string; name: string; created_at: string }

export interface TokenTable {
  id: string;
  token_hash: string;
  project_id: string;
  user_id: string;
  roles: string;
  description: string;
  created_at: string;
  expires_at: string | null;
}

export interface PlanTable {
  id: string;
  project_id: string;
  name: string;
  description: string | null;
  provider_id: string;
  status: string;
  parameters: string;
  created_at: string;
  updated_at: string;
}

export interface PlanResourceTable {
  plan_id: string;
  position: number;
  resource_id: string;
  resource_type: string;
  resource_name: string;
  extra_info: string | null;
}

export interface TriggerTable {
  id: string;
  project_id: string;
  name: string;
  type: string;
  properties: string;
  created_at: string;
  updated_at: string;
}

export interface ScheduledOperationTable {
  id: string;
  project_id: string;
  user_id: string;
  name: string;
  description: string | null;
  operation_type: string;
  trigger_id: string;
  /** Copied out of operation_definition so that plan deletion can find its users by index. */
  plan_id: string;
  operation_definition: string;
  enabled: number;
  created_at: string;
  updated_at: string;
}

export interface OperationLogTable {
  id: string;
  project_id: string;
  operation_type: string;
  checkpoint_id: string | null;
  plan_id: string | null;
  provider_id: string | null;
  restore_id: string | null;
  scheduled_operation_id: string | null;
  status: string;
  started_at: string | null;
  ended_at: string | null;
  error_info: string | null;
  extra_info: string | null;
  created_at: string;
}

export interface QuotaTable { project_id: string; resource: string; hard_limit: number }
export interface QuotaClassTable { class_name: string; resource: string; hard_limit: number }

export interface ServiceTable {
  id: Generated<number>;
  host: string;
  binary: string;
  topic: string;
  disabled: number;
  disabled_reason: string | null;
  created_at: string;
  updated_at: string;
}

export interface CheckpointTable {
  id: string;
  project_id: string;
  provider_id: string;
  plan_id: string;
  status: string;
  protection_plan: string;
  resource_graph: string | null;
  extra_info: string | null;
  created_at: string;
  updated_at: string;
  /** pinned (0/1, migration 0003) exempts a checkpoint from retention; generated so older writers may omit it. */
  pinned: Generated<number>;
}

export interface RestoreTable {
  id: string;
  project_id: string;
  provider_id: string;
  checkpoint_id: string;
  restore_target: string | null;
  parameters: string;
  status: string;
  resources_status: string;
  resources_reason: string;
  created_at: string;
  updated_at: string;
}

/**
 * A running restore's `restore_auth` (migration 0007), JSON: written with the restore and deleted in the
 * transaction that ends it, so the worker (maybe another process) can read it and nothing keeps it after.
 */
export interface RestoreCredentialTable {
  restore_id: string;
  auth: string;
  created_at: string;
}

export interface VerificationTable {
  id: string;
  project_id: string;
  provider_id: string;
  checkpoint_id: string;
  parameters: string;
  status: string;
  resources_status: string;
  resources_reason: string;
  created_at: string;
  updated_at: string;
}

export interface Database {
  projects: ProjectTable;
  tokens: TokenTable;
  plans: PlanTable;
  plan_resources: PlanResourceTable;
  triggers: TriggerTable;
  scheduled_operations: ScheduledOperationTable;
  operation_logs: OperationLogTable;
  quotas: QuotaTable;
  quota_classes: QuotaClassTable;
  services: ServiceTable;
  checkpoints: CheckpointTable;
  restores: RestoreTable;
  restore_credentials: RestoreCredentialTable;
  verifications: VerificationTable;
  operations: OperationTable;
  operation_tasks: OperationTaskTable;
  checkpoint_resources: CheckpointResourceTable;
  schedule_runs: ScheduleRunTable;
  schedule_plan_slots: SchedulePlanSlotTable;
}

/** One protection-engine run (protect, restore, delete): its lease, frozen graph and parameters. */
export interface OperationTable {
  id: string;
  project_id: string;
  kind: string;
  provider_id: string;
  plan_id: string | null;
  checkpoint_id: string | null;
  restore_id: string | null;
  /** verification_id (migration 0004) names the verification a verify operation runs. */
  verification_id: string | null;
  log_id: string | null;
  status: string;
  owner: string | null;
  lease_expires_at: string | null;
  graph: string;
  parameters: string;
  new_resources: string;
  error: string | null;
  /**
   * A user's cancel request (migration 0006): when, by whom and why; null (or absent in rows written
   * by code that predates it) while nobody asked. Optional so that writers need not name them.
   */
  cancel_requested_at?: string | null;
  cancel_requested_by?: string | null;
  cancel_reason?: string | null;
  created_at: string;
  updated_at: string;
}

/** One hook of one resource in an operation: its journaled state, attempt, poll handle and progress. */
export interface OperationTaskTable {
  operation_id: string;
  resource_key: string;
  hook: string;
  state: string;
  attempt: number;
  handle: string | null;
  reason: string | null;
  progress: string | null;
  started_at: string | null;
  ended_at: string | null;
  updated_at: string;
}

/** A resource's plugin-defined metadata in a checkpoint (HookContext.metadata). */
export interface CheckpointResourceTable {
  checkpoint_id: string;
  resource_key: string;
  metadata: string;
  updated_at: string;
}

/** One due run of a scheduled operation (migration 0005); the primary key (operation, due_at) is the claim. */
export interface ScheduleRunTable {
  scheduled_operation_id: string;
  due_at: string;
  project_id: string;
  plan_id: string;
  fire_at: string;
  claimed_by: string;
  claimed_at: string;
  state: string;
  reason: string | null;
  checkpoint_id: string | null;
  log_id: string | null;
  ended_at: string | null;
}

/** A short lease on a plan while a scheduler checks for overlap and starts its run (migration 0005). */
export interface SchedulePlanSlotTable { plan_id: string; holder: string; expires_at: string }
