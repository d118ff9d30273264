/**
 * Resource parameters, keyed `Type` or `Type#id` as Karbor has them, checked against the provider's
 * per-type schema. Values are coerced to the schema's types (the Karbor CLI sends every value as a
 * string) and kept typed, so `{"one_file_system": "true"}` is stored and returned as `true`.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { TSchema } from '@sinclair/typebox';
import { HoardError } from '../model/errors.js';

const ajv = new Ajv({ coerceTypes: true, allErrors: true, strict: false, useDefaults: false });
const compiled = new WeakMap<TSchema, ValidateFunction>();
const KEY_RE = /^[a-zA-Z0-9\-_:.# ]{1,255}$/;

export type ParameterMap = Record<string, Record<string, unknown>>;

/** checkParameters validates and coerces; it returns a new map and never changes its input. */
export function checkParameters(
  input: ParameterMap,
  schemas: Record<string, TSchema>,
  kind: 'options' | 'restore' | 'verify',
): ParameterMap {
  const out: ParameterMap = {};
  for (const [key, value] of Object.entries(input)) {
    if (!KEY_RE.test(key)) throw new HoardError('invalid_parameters', `Parameter key ${JSON.stringify(key)} is not of the form Type or Type#resource_id.`);
    const type = key.split('#')[0]!;
    const id = key.includes('#') ? key.slice(key.indexOf('#') + 1) : undefined;
    if (id === '') throw new HoardError('invalid_parameters', `Parameter key ${key} names no resource id after '#'.`);
    const schema = schemas[type];
    if (!schema) {
      throw new HoardError('invalid_parameters', `Parameters for ${type} are not accepted: the provider has no ${kind} schema for that type (it supports ${Object.keys(schemas).join(', ') || 'none'}).`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new HoardError('invalid_parameters', `Parameters for ${key} must be an object of name: value.`);
    }
    const copy = structuredClone(value);
    const validate = validator(schema);
    if (!validate(copy)) {
      const msg = (validate.errors ?? []).map((e) => (e.keyword === 'additionalProperties'
        ? `unknown parameter '${(e.params as { additionalProperty: string }).additionalProperty}'`
        : `${e.instancePath.slice(1) || 'value'} ${e.message}`)).join('; ');
      throw new HoardError('invalid_parameters', `Invalid ${kind} parameters for ${key}: ${msg}.`);
    }
    out[key] = copy as Record<string, unknown>;
  }
  return out;
}

function validator(schema: TSchema): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    v = ajv.compile(schema);
    compiled.set(schema, v);
  }
  return v;
}
