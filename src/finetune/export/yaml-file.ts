import { stringify } from "yaml";

/**
 * YAML as the Python trainers read it (PyYAML, YAML 1.1): strings such as "no", "on" or "yes" are quoted
 * (1.1 would read them as booleans), and floats that JavaScript prints in exponent form get the dot and
 * signed exponent 1.1's float pattern needs ("5e-7" would be a string there; "5.0e-07" is a float).
 */
export function toYaml(value: unknown, header?: string): string {
  const body = stringify(value, { version: "1.1", lineWidth: 0 }).replace(
    /^(\s*(?:- )?(?:[^\s:]+: )?)(-?\d+(?:\.\d+)?)e([-+]?)(\d+)$/gm,
    (_m, lead: string, mant: string, sign: string, exp: string) =>
      `${lead}${mant.includes(".") ? mant : `${mant}.0`}e${sign === "-" ? "-" : "+"}${exp.padStart(2, "0")}`,
  );
  return header ? `${header.replace(/^/gm, "# ")}\n${body}` : body;
}
