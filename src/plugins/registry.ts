/**
 * PluginRegistry holds every protectable and protection plugin of this process. Registration checks
 * descriptors (SDK version, names, duplicates) and refuses a mismatch with a clear error at start-up,
 * so that a bad plugin never surfaces as a failed request later.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { HookSpecSchema } from './hooks/index.js';
import { HoardError } from '../model/errors.js';
import { SDK_VERSION, type Protectable, type ProtectableContext, type ProtectionPlugin, type ProtectionPluginDescriptor, type Resource } from './sdk/index.js';

const PLUGIN_NAME = /^[a-z0-9][a-z0-9.-]*\/[a-z0-9][a-z0-9-]*$/;
const TYPE_NAME = /^[A-Za-z0-9]+(::[A-Za-z0-9]+)+$/;

export interface ExtendedInfoSchema {
  options_schema: Record<string, TSchema>;
  restore_schema: Record<string, TSchema>;
  saved_info_schema: Record<string, TSchema>;
  verify_schema: Record<string, TSchema>;
}

export class PluginRegistry {
  private readonly protectables = new Map<string, Protectable>();
  private readonly plugins = new Map<string, ProtectionPluginDescriptor>();

  registerProtectable(p: Protectable): void {
    if (p.sdkVersion !== SDK_VERSION) throw new Error(`protectable ${p.resourceType} needs plugin SDK v${p.sdkVersion}, this build has v${SDK_VERSION}`);
    if (!TYPE_NAME.test(p.resourceType)) throw new Error(`protectable type ${p.resourceType} is not a Vendor::Family::Kind name`);
    if (this.protectables.has(p.resourceType)) throw new Error(`protectable type ${p.resourceType} is registered twice`);
    this.protectables.set(p.resourceType, p);
  }

  /**
   * registerProtectionPlugin adds a plugin: a bare descriptor (schemas only, the engine cannot run it)
   * or a ProtectionPlugin with behaviour. Refuses a wrong SDK version, a bad name or a duplicate.
   */
  registerProtectionPlugin(d: ProtectionPluginDescriptor | ProtectionPlugin): void {
    if (d.sdkVersion !== SDK_VERSION) throw new Error(`plugin ${d.name} needs plugin SDK v${d.sdkVersion}, this build has v${SDK_VERSION}`);
    if (!PLUGIN_NAME.test(d.name)) throw new Error(`plugin name ${d.name} must look like vendor.tld/name`);
    if (this.plugins.has(d.name)) throw new Error(`plugin ${d.name} is registered twice`);
    this.plugins.set(d.name, d);
  }

  /** types lists protectable resource types in registration order. */
  types(): string[] {
    return [...this.protectables.keys()];
  }

  hasType(type: string): boolean {
    return this.protectables.has(type);
  }

  /** dependentTypes are the types whose protectables name `type` among their parents. */
  dependentTypes(type: string): string[] {
    return [...this.protectables.values()].filter((p) => p.parentTypes.includes(type)).map((p) => p.resourceType);
  }

  protectable(type: string): Protectable {
    const p = this.protectables.get(type);
    if (!p) throw new HoardError('protectable_type_unknown', `Protectable type ${type} is not supported. Known types: ${this.types().join(', ')}.`);
    return p;
  }

  /** dependents gathers, from every protectable that lists the parent's type, what the parent holds. */
  async dependents(ctx: ProtectableContext, parent: Resource): Promise<Resource[]> {
    const out: Resource[] = [];
    for (const p of this.protectables.values()) {
      if (p.parentTypes.includes(parent.type)) out.push(...(await p.dependents(ctx, parent)));
    }
    return out;
  }

  plugin(name: string): ProtectionPluginDescriptor | undefined {
    return this.plugins.get(name);
  }

  /** typesOf resolves the resource types a set of plugins protects (`*` expands to every type). */
  typesOf(pluginNames: readonly string[]): string[] {
    const types = new Set<string>();
    for (const name of pluginNames) {
      const d = this.requirePlugin(name);
      for (const t of d.resourceTypes) (t === '*' ? this.types() : [t]).forEach((x) => types.add(x));
    }
    return [...types];
  }

  /** extendedInfoSchema is Karbor's provider schema, built from the plugins' declared schemas (last plugin wins per type). */
  extendedInfoSchema(pluginNames: readonly string[]): ExtendedInfoSchema {
    const out: ExtendedInfoSchema = { options_schema: {}, restore_schema: {}, saved_info_schema: {}, verify_schema: {} };
    for (const name of pluginNames) {
      const d = this.requirePlugin(name);
      const types = d.resourceTypes.includes('*') ? this.types() : d.resourceTypes;
      for (const t of types) {
        out.options_schema[t] = withHooksParameter(d.schemas.options);
        out.restore_schema[t] = d.schemas.restore;
        out.saved_info_schema[t] = d.schemas.savedInfo;
        if (d.schemas.verify) out.verify_schema[t] = d.schemas.verify;
      }
    }
    return out;
  }

  /**
   * resolvePlugin is the plugin a provider uses for a resource type: the last of `pluginNames` that
   * protects the type (or `*`), as Karbor's "last plugin listed wins". Undefined when none does.
   */
  resolvePlugin(pluginNames: readonly string[], type: string): ProtectionPluginDescriptor | undefined {
    let found: ProtectionPluginDescriptor | undefined;
    for (const name of pluginNames) {
      const d = this.requirePlugin(name);
      if (d.resourceTypes.includes(type) || d.resourceTypes.includes('*')) found = d;
    }
    return found;
  }

  /** behaviourOf is the registered plugin's behaviour, or undefined for a descriptor-only plugin. */
  behaviourOf(name: string): ProtectionPlugin | undefined {
    const d = this.plugins.get(name);
    return d && typeof (d as Partial<ProtectionPlugin>).operation === 'function' ? (d as ProtectionPlugin) : undefined;
  }

  private requirePlugin(name: string): ProtectionPluginDescriptor {
    const d = this.plugins.get(name);
    if (!d) throw new Error(`protection plugin ${name} is not registered; known: ${[...this.plugins.keys()].join(', ')}`);
    return d;
  }
}

/**
 * withHooksParameter adds `hooks` (pre/post exec hooks, src/plugins/hooks) to a plugin's options schema:
 * every resource of a plan may carry them, whatever its plugin. The Karbor CLI can only send strings, so
 * the spec may also come as JSON text; plans check it in full (parseHookSpec) when they are saved.
 */
function withHooksParameter(schema: TSchema): TSchema {
  if (schema.type !== 'object') return schema;
  const hooks = Type.Optional(Type.Union([HookSpecSchema, Type.String()], { title: 'Exec hooks', description: 'pre/post commands: local, SQL or over SSH (docs/hooks.md)' }));
  return { ...schema, properties: { ...(schema.properties ?? {}), hooks } } as TSchema;
}
