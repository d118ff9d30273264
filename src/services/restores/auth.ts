/**
 * restore_auth as the API accepts it (Karbor's `{type: 'password', username, password}`, or Hoard's
 * `{type: 'ssh', username, private_key? | password?, passphrase?, host_key}`), checked for shape here;
 * what a target needs of it (an ssh form, a usable host_key) is its plugin's call, at request time too.
 * Messages name fields, never values.
 */
import { HoardError } from '../../model/errors.js';

/** RestoreAuthInput is the request's restore_auth, as the route's schema let it through. */
export type RestoreAuthInput = Readonly<Record<string, unknown>>;

const FIELDS: Readonly<Record<string, { readonly required: readonly string[]; readonly allowed: readonly string[] }>> = {
  password: { required: ['username', 'password'], allowed: ['type', 'username', 'password'] },
  ssh: { required: ['username', 'host_key'], allowed: ['type', 'username', 'password', 'private_key', 'passphrase', 'host_key'] },
};

/** checkRestoreAuth answers the credentials to hand the engine (null: none) or refuses a wrong shape (invalid_field). */
export function checkRestoreAuth(auth: RestoreAuthInput | null | undefined): RestoreAuthInput | null {
  if (auth === null || auth === undefined) return null;
  const type = String(auth.type);
  const form = FIELDS[type];
  if (!form) throw new HoardError('invalid_field', 'restore_auth.type must be password or ssh.');
  const extra = Object.keys(auth).find((k) => !form.allowed.includes(k));
  if (extra !== undefined) throw new HoardError('unknown_field', `restore_auth of type ${type} takes no ${extra}; it takes ${form.allowed.filter((k) => k !== 'type').join(', ')}.`);
  for (const k of form.required) {
    if (typeof auth[k] !== 'string' || auth[k] === '') throw new HoardError('missing_field', `restore_auth of type ${type} needs ${k}.`);
  }
  if (type === 'ssh') {
    if (!auth.private_key && !auth.password) throw new HoardError('missing_field', 'restore_auth of type ssh needs a private_key or a password.');
    if (auth.passphrase !== undefined && !auth.private_key) throw new HoardError('invalid_field', 'restore_auth.passphrase unlocks a private_key, and none was given.');
  }
  return auth;
}
