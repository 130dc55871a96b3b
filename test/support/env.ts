import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

/**
 * Where tests find real data and tiny real models: RECALPACA_DATA_DIR / RECALPACA_MODELS_DIR, falling
 * back to ../shared beside the repository. In CI (CI=true) a missing folder is an error, never a skip.
 */
function sharedDir(envName: string, fallback: string): string | undefined {
  const fromEnv = process.env[envName];
  const dir = resolve(
    fromEnv && fromEnv.length > 0 ? fromEnv : join(import.meta.dirname, "..", "..", "..", "shared", fallback),
  );
  if (existsSync(dir)) return dir;
  if (process.env.CI)
    throw new Error(`${envName}: ${dir} does not exist; CI must provide the shared ${fallback}`);
  return undefined;
}

export const DATA_DIR = sharedDir("RECALPACA_DATA_DIR", "data");
export const MODELS_DIR = sharedDir("RECALPACA_MODELS_DIR", "models");
export const FIXTURES_DIR = sharedDir("RECALPACA_FIXTURES_DIR", "fixtures");

/** Use as `describe.skipIf(!DATA_DIR)` outside CI only; inside CI the folders are required above. */
export function dataPath(...parts: string[]): string {
  if (!DATA_DIR) throw new Error("real data folder not available");
  return join(DATA_DIR, ...parts);
}

export function modelPath(name: string): string {
  if (!MODELS_DIR) throw new Error("models folder not available");
  return join(MODELS_DIR, name);
}

export function fixturePath(name: string): string {
  if (!FIXTURES_DIR) throw new Error("fixtures folder not available");
  return join(FIXTURES_DIR, name);
}
