import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DataFormatError } from "../../src/core/index.js";
import { Interactions } from "../../src/data/index.js";
import {
  BprMf,
  datasetFingerprint,
  decodeModelFile,
  encodeModelFile,
  loadModel,
  MODEL_FILE_VERSION,
  type ModelSnapshot,
  readModelFile,
  writeModelFile,
} from "../../src/recsys/index.js";

const train = Interactions.from(3, 4, [0, 1, 2, 2], [1, 0, 3, 2]);
const snap: ModelSnapshot = {
  model: "test",
  config: { dims: 2, name: "x" },
  nUsers: 3,
  nItems: 4,
  arrays: {
    P: Float32Array.from([1.5, -2, 0, 3, 4, 5]),
    idx: Int32Array.from([7, -8, 9]),
    flags: Uint8Array.from([1, 0, 1]),
    d: Float64Array.from([Math.PI]),
    empty: new Float32Array(0),
  },
  state: { epochsDone: 3, resumable: true },
};

describe("model file", () => {
  const dir = mkdtempSync(join(tmpdir(), "recalpaca-model-file-"));

  it("round-trips config, state, fingerprint and every array type exactly", () => {
    const fp = datasetFingerprint(train, "ml-test");
    const path = join(dir, "a.model");
    writeModelFile(path, snap, fp);
    const { header, snapshot } = readModelFile(path, fp);
    expect(header.format).toBe("recalpaca-recsys-model");
    expect(header.version).toBe(MODEL_FILE_VERSION);
    expect(header.data).toEqual(fp);
    expect(snapshot.config).toEqual(snap.config);
    expect(snapshot.state).toEqual(snap.state);
    for (const [k, v] of Object.entries(snap.arrays)) {
      expect(snapshot.arrays[k].constructor).toBe(v.constructor);
      expect(Array.from(snapshot.arrays[k])).toEqual(Array.from(v));
    }
    expect(readFileSync(path).subarray(0, 8).toString("latin1")).toBe("RCPMODL\n");
  });

  it("fingerprints the training set independently of input order", () => {
    const shuffled = Interactions.from(3, 4, [2, 2, 1, 0], [2, 3, 0, 1]);
    expect(datasetFingerprint(shuffled, "x")).toEqual(datasetFingerprint(train, "x"));
    const other = Interactions.from(3, 4, [0, 1, 2, 2], [1, 0, 3, 1]);
    expect(datasetFingerprint(other).trainHash).not.toBe(datasetFingerprint(train).trainHash);
  });

  it("refuses a model trained on another dataset, catalogue size or training set", () => {
    const path = join(dir, "b.model");
    writeModelFile(path, snap, datasetFingerprint(train, "ml-100k"));
    expect(() => readModelFile(path, datasetFingerprint(train, "ml-1m"))).toThrow(
      /trained on ml-100k .* but the data given is ml-1m/,
    );
    const bigger = Interactions.from(3, 5, [0], [4]);
    expect(() => readModelFile(path, datasetFingerprint(bigger, "ml-100k"))).toThrow(DataFormatError);
    const otherTrain = Interactions.from(3, 4, [0], [0]);
    expect(() => readModelFile(path, datasetFingerprint(otherTrain, "ml-100k"))).toThrow(
      /different training set/,
    );
    expect(
      readModelFile(path, datasetFingerprint(otherTrain, "ml-100k"), { checkTrain: false }).header.model,
    ).toBe("test");
  });

  it("rejects other files, other versions and corrupt data with clear errors", () => {
    const bytes = encodeModelFile(snap, datasetFingerprint(train));
    expect(() => decodeModelFile(new TextEncoder().encode("hello world, not a model"), "x.bin")).toThrow(
      /x.bin: not a recalpaca recsys model file/,
    );
    const hLen = new DataView(bytes.buffer).getUint32(8, true);
    const header = JSON.parse(Buffer.from(bytes.subarray(12, 12 + hLen)).toString("utf8"));
    const v2 = Buffer.from(JSON.stringify({ ...header, version: 2 }).padEnd(hLen, " "));
    const future = bytes.slice();
    future.set(v2, 12);
    expect(() => decodeModelFile(future, "f.model")).toThrow(/version 2 is not supported/);
    const corrupt = bytes.slice();
    corrupt[corrupt.length - 1] ^= 0xff;
    expect(() => decodeModelFile(corrupt)).toThrow(/corrupt/);
    expect(() => decodeModelFile(bytes.subarray(0, 20))).toThrow(/truncated|JSON/);
  });

  it("a failed write leaves the previous file untouched", () => {
    const path = join(dir, "c.model");
    writeFileSync(path, "old");
    const bad = { ...snap, arrays: { x: [1, 2] as unknown as Float32Array } };
    expect(() => writeModelFile(path, bad, datasetFingerprint(train))).toThrow();
    expect(readFileSync(path, "utf8")).toBe("old");
    expect(() => writeModelFile(path, snap, datasetFingerprint(Interactions.from(2, 4, [0], [0])))).toThrow(
      /fingerprint/,
    );
    expect(readFileSync(path, "utf8")).toBe("old");
  });

  it("a restored model's config and arrays are checked: a bad file is a DataFormatError (exit 3) naming file and field", async () => {
    const m = new BprMf({ dims: 2, epochs: 1 });
    await m.fit(train, { seed: 3 });
    const good = m.snapshot();
    const fp = datasetFingerprint(train, null);
    const cases: Array<[string, ModelSnapshot, RegExp]> = [
      [
        "typo",
        { ...good, config: { ...good.config, dimz: 2 } },
        /field "config\.dimz": bpr-mf has no setting "dimz"/,
      ],
      [
        "bad value",
        { ...good, config: { ...good.config, dims: -2 } },
        /field "config\.dims": bpr-mf: dims must be an integer ≥ 1, got -2/,
      ],
      [
        "short array",
        { ...good, arrays: { ...good.arrays, Q: new Float32Array(3) } },
        /field "Q": bpr-mf model file: 3 values, expected 8/,
      ],
      [
        "wrong type",
        { ...good, arrays: { ...good.arrays, bias: new Int32Array(4) } },
        /field "bias": bpr-mf model file: expected a float32 array/,
      ],
      [
        "missing array",
        { ...good, arrays: { P: good.arrays.P, Q: good.arrays.Q } },
        /field "bias": bpr-mf model file has no array "bias"/,
      ],
      ["unknown model", { ...good, model: "svd" }, /field "model": unknown model "svd"/],
    ];
    for (const [label, bad, message] of cases) {
      const path = join(dir, `bad-${label.replace(" ", "-")}.model`);
      writeModelFile(path, bad, fp);
      let caught: unknown;
      try {
        loadModel(path);
      } catch (err) {
        caught = err;
      }
      expect(caught, label).toBeInstanceOf(DataFormatError);
      expect((caught as DataFormatError).exitCode).toBe(3);
      expect((caught as Error).message, label).toContain(path);
      expect((caught as Error).message, label).toMatch(message);
    }
    const path = join(dir, "good.model");
    writeModelFile(path, good, fp);
    expect(loadModel(path).model.config).toEqual({ dims: 2, epochs: 1, lr: 0.05, reg: 0.02, initStd: 0.1 });
  });
});
