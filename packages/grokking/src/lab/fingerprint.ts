/**
 * A short hash of typed arrays (FNV-1a, 32 bits, over their bytes): the lab reports one of the initial
 * weights and one of the split, so a test can check that a seed gives the same init and split in the
 * browser's worker as in Node, bit for bit, without shipping the arrays.
 */
export function fnv1a(arrays: readonly ArrayBufferView[]): string {
  let h = 0x811c9dc5;
  for (const a of arrays) {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
