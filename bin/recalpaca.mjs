#!/usr/bin/env node
// Entry point of the `recalpaca` command: the compiled library in dist/ (`npm run build`; `npm ci` runs it).
import { existsSync } from "node:fs";

const entry = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("recalpaca: the compiled program (dist/) is missing: run `npm run build` in the package folder\n");
  process.exit(4);
}
const { main } = await import(entry.href);
await main(process.argv);
