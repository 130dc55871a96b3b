import { DataFormatError } from "../core/index.js";
import type { ModelArray, ModelSnapshot } from "./recommender.js";

type ArrayCtor<A extends ModelArray> = { new (length: number): A; readonly name: string };

/**
 * Array `name` of a snapshot read from `file`, checked against the type (and, when given, the length)
 * the model expects: a model file that lacks it or holds something else is a DataFormatError.
 */
export function snapshotArray<A extends ModelArray>(
  s: ModelSnapshot,
  name: string,
  ctor: ArrayCtor<A>,
  file: string,
  length?: number,
): A {
  const a = optionalSnapshotArray(s, name, ctor, file, length);
  if (!a) throw new DataFormatError({ file, field: name }, `${s.model} model file has no array "${name}"`);
  return a;
}

/** Like snapshotArray, for arrays only some files have (training state); undefined when absent. */
export function optionalSnapshotArray<A extends ModelArray>(
  s: ModelSnapshot,
  name: string,
  ctor: ArrayCtor<A>,
  file: string,
  length?: number,
): A | undefined {
  const a = s.arrays[name];
  if (a === undefined) return undefined;
  if (!(a instanceof ctor)) {
    throw new DataFormatError(
      { file, field: name },
      `${s.model} model file: expected a ${ctor.name.replace("Array", "").toLowerCase()} array`,
    );
  }
  if (length !== undefined && a.length !== length) {
    throw new DataFormatError(
      { file, field: name },
      `${s.model} model file: ${a.length} values, expected ${length} for ${s.nUsers} users × ${s.nItems} items`,
    );
  }
  return a;
}
