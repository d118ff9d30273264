/**
 * The public plugin SDK. A plugin is data plus functions: a Protectable finds resources of one type and
 * their dependents; a ProtectionPlugin declares which types it protects, its capabilities and the JSON
 * Schemas of its options, restore parameters and saved info. Built-in plugins use only this module,
 * and a plugin never receives the bank or the database, only what its context hands it.
 */
import type { TSchema } from '@sinclair/typebox';

/** SDK_VERSION is the plugin interface version this build implements; plugins declare what they need. */
export const SDK_VERSION = 1;

/** A resource as Karbor names it: type, id, name and optional plugin-defined extra info. */
export interface Resource {
  readonly type: string;
  readonly id: string;
  readonly name: string;
  readonly extraInfo?: Readonly<Record<string, unknown>> | null;
}

export interface ProtectableContext {
  readonly projectId: string;
  /** Query parameters the caller passed (`?parameters=` on the Karbor API), already parsed. */
  readonly parameters: Readonly<Record<string, unknown>>;
}

/** Protectable lists and describes resources of one type and names the resources each parent holds. */
export interface Protectable {
  readonly sdkVersion: number;
  readonly resourceType: string;
  /** Types whose instances can hold this type's instances (Karbor's parent resource types). */
  readonly parentTypes: readonly string[];
  list(ctx: ProtectableContext): Promise<readonly Resource[]>;
  /** show returns undefined when the resource does not exist or is not visible to the project. */
  show(ctx: ProtectableContext, id: string): Promise<Resource | undefined>;
  /** dependents returns the resources of this type that `parent` holds. */
  dependents(ctx: ProtectableContext, parent: Resource): Promise<readonly Resource[]>;
}

export interface Capabilities {
  readonly incremental: boolean;
  readonly granularRestore: boolean;
  readonly verify: boolean;
  readonly copy: boolean;
  readonly quiesce: boolean;
}

/** ProtectionPluginDescriptor is what a protection plugin declares; the registry checks it. */
export interface ProtectionPluginDescriptor {
  /** Namespaced, e.g. `hoard.io/directory`. */
  readonly name: string;
  readonly sdkVersion: number;
  /** Resource types protected; `*` means every registered type (the no-op plugin). */
  readonly resourceTypes: readonly string[];
  readonly capabilities: Capabilities;
  readonly schemas: {
    readonly options: TSchema;
    readonly restore: TSchema;
    readonly savedInfo: TSchema;
    readonly verify?: TSchema;
  };
}

export const NO_CAPABILITIES: Capabilities = { incremental: false, granularRestore: false, verify: false, copy: false, quiesce: false };
