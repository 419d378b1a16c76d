import { AllConfig } from './config.types';
import { loadConfig } from './config.loader';

/** The single place that reads process.env. */
export function readConfigFromEnvironment(overrides: { demoMode?: boolean } = {}): AllConfig {
  return loadConfig(process.env, overrides);
}
