import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadExperimentFile, validateExperiment } from "../../src/config/index.js";
import { DataFormatError, MissingResourceError, UsageError } from "../../src/core/index.js";

const dir = mkdtempSync(join(tmpdir(), "recalpaca-config-"));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe("experiment files", () => {
  it("fills defaults for an empty file", () => {
    const c = loadExperimentFile(file("empty.yaml", ""));
    expect(c.seed).toBe(2020);
    expect(c.data).toEqual({ dataset: "ml-100k", download: true, lenient: false });
    expect(c.split).toEqual({ strategy: "user-ratio", testRatio: 0.2, interactions: "all" });
    expect(c.recsys).toEqual({ model: "lightgcn", epochs: 400, params: {}, validationRatio: 0 });
    expect(c.candidates).toEqual({ n: 20 });
  });

  it("reads YAML and JSON alike", () => {
    const y = loadExperimentFile(
      file("a.yaml", "name: x1\nseed: 7\ndata:\n  dataset: anime\nsplit:\n  strategy: temporal\n"),
    );
    const j = loadExperimentFile(
      file(
        "a.json",
        JSON.stringify({ name: "x1", seed: 7, data: { dataset: "anime" }, split: { strategy: "temporal" } }),
      ),
    );
    expect(y).toEqual(j);
    expect(y.split.strategy).toBe("temporal");
  });

  it("names the field and the allowed values", () => {
    expect(() => validateExperiment({ split: { strategy: "random" } }, "exp.yaml")).toThrow(
      /exp\.yaml: field split\.strategy: expected one of "user-ratio", "global-ratio", "leave-last-out", "temporal", got "random"/,
    );
    expect(() => validateExperiment({ split: { testRatio: 1.5 } })).toThrow(/field split\.testRatio/);
    expect(() => validateExperiment({ data: { datset: "ml-100k" } })).toThrow(
      /section data: unknown field "datset"/,
    );
    expect(() => validateExperiment({ seed: "abc" })).toThrow(/field seed: expected number, got string/);
    expect(() => validateExperiment({ data: { dataset: "delimited" } })).toThrow(
      /field data\.delimited: required/,
    );
    expect(() => validateExperiment({ data: { dataset: "netflix" } })).toThrow(UsageError);
  });

  it("reports unparseable files with their line, and missing files", () => {
    const p = file("bad.yaml", "name: a\nsplit: [unclosed\n");
    expect(() => loadExperimentFile(p)).toThrow(DataFormatError);
    expect(() => loadExperimentFile(p)).toThrow(/bad\.yaml:\d+: not valid YAML/);
    expect(() => loadExperimentFile(join(dir, "nope.yaml"))).toThrow(MissingResourceError);
    expect(() => loadExperimentFile(file("x.toml", "a=1"))).toThrow(/must end in \.yaml, \.yml or \.json/);
  });
});

describe("examples/experiment.yaml", () => {
  it("is a valid experiment file whose values are the documented defaults", () => {
    const c = loadExperimentFile(join(import.meta.dirname, "..", "..", "examples", "experiment.yaml"));
    const d = validateExperiment({});
    expect(c.name).toBe("ml100k-lightgcn");
    expect({ ...c, name: d.name, dataset: d.dataset }).toEqual(d);
    expect(c.dataset).toMatchObject({ records: 900, template: "clean", retries: 2, validationShare: 0.1 });
  });
});
