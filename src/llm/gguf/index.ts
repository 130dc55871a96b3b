export {
  FILE_TYPE_NAMES,
  GgmlType,
  type GgmlTypeInfo,
  ggmlByteLength,
  ggmlTypeByName,
  ggmlTypeInfo,
} from "./ggml-types.js";
export {
  GGUF_VALUE_TYPE_IDS,
  type GgufFile,
  type GgufScalarType,
  type GgufTensorInfo,
  type GgufValue,
  type GgufValueType,
  type GgufValueTypeInfo,
  readGgufFile,
} from "./gguf-reader.js";
export {
  type GgufMetadataEntry,
  type GgufTensorToWrite,
  type GgufWriteSpec,
  writeGgufFile,
} from "./gguf-writer.js";
export { type LoraAdapterSpec, type LoraTensorPair, writeLoraAdapter } from "./lora-adapter.js";
export { type GgufSummary, ggufSummary, summariseGguf } from "./summary.js";
export {
  DEQUANTISABLE_TYPES,
  dequantise,
  f16ToF32Table,
  f32ToF16,
  readTensorBytes,
  readTensorData,
} from "./tensor-data.js";
