import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

/** A fresh temp folder, removed after the test file. */
export function tempDir(prefix = "recalpaca-data-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Write files (string = latin-1 bytes unless utf8 is asked for; Buffer as is) into a new temp folder. */
export function folderWith(
  files: Record<string, string | Buffer>,
  encoding: "latin1" | "utf8" = "latin1",
): string {
  const dir = tempDir();
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(dir, name), typeof content === "string" ? Buffer.from(content, encoding) : content);
  }
  return dir;
}

export function copyInto(dir: string, src: string, name: string): void {
  copyFileSync(src, join(dir, name));
}
