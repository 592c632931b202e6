/**
 * Secret injection: a stage gets only the secrets it declares (`secrets` and `${secrets.X}` in
 * `secretEnv`), as env vars. A missing secret is a stage failure with a clear reason, not a crash.
 */
import type { PlannedStage } from '../../pipeline/plan-types';

export type SecretEnv = { ok: true; env: Record<string, string> } | { ok: false; reason: string };

export function resolveSecretEnv(stage: PlannedStage, secrets: Record<string, string>): SecretEnv {
  const lookup = (name: string): string | undefined => (Object.hasOwn(secrets, name) ? secrets[name] : undefined);
  const referenced = new Set(stage.secrets);
  for (const template of Object.values(stage.secretEnv)) {
    for (const part of template) if ('secret' in part) referenced.add(part.secret);
  }
  const missing = [...referenced].filter((name) => lookup(name) === undefined).sort();
  if (missing.length > 0) {
    const names = missing.map((name) => `"${name}"`).join(', ');
    return {
      ok: false,
      reason: `missing secret${missing.length > 1 ? 's' : ''} ${names}: stage "${stage.id}" declares ${missing.length > 1 ? 'them' : 'it'} but this run does not define ${missing.length > 1 ? 'them' : 'it'}`,
    };
  }
  const env: Record<string, string> = {};
  for (const name of stage.secrets) env[name] = lookup(name)!;
  for (const [key, template] of Object.entries(stage.secretEnv)) {
    env[key] = template.map((part) => ('secret' in part ? lookup(part.secret)! : part.text)).join('');
  }
  return { ok: true, env };
}
