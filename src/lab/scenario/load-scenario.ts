/**
 * Reading a scenario file. JSON only: YAML would need a parser dependency, and a hand-written
 * YAML subset would accept files that real YAML reads differently.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../core/index.js';
import type { ScenarioSpec } from './types.js';
import { validateScenario } from './validate-scenario.js';

/** Parses and validates scenario text; `source` names it in errors. */
export function parseScenario(text: string, source: string): ScenarioSpec {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError('BAD_CONFIG', `${source}: not valid JSON (${(e as Error).message}); scenarios are JSON files`);
  }
  return validateScenario(json, source);
}

/** Reads, parses and validates a scenario file; unreadable files are ConfigErrors too. */
export function loadScenario(path: string): ScenarioSpec {
  if (/\.ya?ml$/i.test(path)) throw new ConfigError('BAD_CONFIG', `${path}: YAML scenarios are not supported; write the scenario as JSON`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError('BAD_CONFIG', `${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseScenario(text, path);
}
