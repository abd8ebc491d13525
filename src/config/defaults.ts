/**
 * The defaults, read from the schema: what a config file without a single key gives.
 * `config/k0rdent-default.yaml` in this repository spells out the same values (a unit test keeps the
 * two equal).
 */
import { CONFIG_SCHEMA } from './schema';
import type { K0rdentConfig } from './types';

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) {
      deepFreeze(child);
    }
    Object.freeze(value);
  }
  return value;
}

/** A fresh, mutable copy of the defaults. */
export function defaultConfig(): K0rdentConfig {
  return CONFIG_SCHEMA.parse({});
}

/** Every default, frozen; take a copy with `defaultConfig()` before changing anything. */
export const DEFAULT_CONFIG: K0rdentConfig = deepFreeze(defaultConfig());
