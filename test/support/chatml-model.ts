import { join } from "node:path";
import {
  type GgufMetadataEntry,
  type GgufScalarType,
  readGgufFile,
  readTensorBytes,
  writeGgufFile,
} from "../../src/llm/gguf/index.js";
import { modelPath } from "./env.js";

/** A ChatML chat template (Jinja), as many GGUF models carry in `tokenizer.chat_template`. */
export const CHATML =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** Write stories260K with a `tokenizer.chat_template` added (through our GGUF writer) into `dir`; returns its path. */
export function writeChatmlCopy(dir: string): string {
  const file = readGgufFile(modelPath("stories260K.gguf"));
  const metadata: GgufMetadataEntry[] = [];
  for (const [key, value] of Object.entries(file.metadata)) {
    if (key === "general.alignment") continue;
    const t = file.metadataTypes[key];
    if (!t) continue;
    if (t.type === "array") {
      metadata.push({ key, type: "array", itemType: t.itemType as GgufScalarType, value: value as never });
    } else {
      metadata.push({ key, type: t.type as GgufScalarType, value: value as never });
    }
  }
  metadata.push({ key: "tokenizer.chat_template", type: "string", value: CHATML });
  const tensors = file.tensors.map((t) => ({
    name: t.name,
    dims: t.dims,
    type: t.type.id,
    data: readTensorBytes(file, t),
  }));
  const path = join(dir, "stories-chatml.gguf");
  writeGgufFile(path, { metadata, tensors });
  return path;
}
