/** A short, stable digest of JSON-able data; deterministic, so the workflow may compute it. */

/** Hex FNV-1a (two 32-bit lanes) of `JSON.stringify(value)`: equal data, equal digest. */
export function jsonDigest(value: unknown): string {
  const text = JSON.stringify(value) ?? '';
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c ^ (a >>> 7), 0x01000193) >>> 0;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}
