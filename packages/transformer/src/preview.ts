/**
 * A short rendering of an untrusted JSON value for an error message. A hostile file may nest arrays a
 * million deep (JSON.stringify and String() then overflow the stack) or hold a 100 MB string (the message
 * would be as long): this walks at most a few levels and stops after `limit` characters.
 */
export function preview(value: unknown, limit = 60): string {
  let out = '';
  const walk = (v: unknown, depth: number): void => {
    if (out.length > limit) return;
    if (Array.isArray(v)) {
      if (depth >= 4) {
        out += '[…]';
        return;
      }
      out += '[';
      for (let i = 0; i < v.length && out.length <= limit; i++) {
        if (i > 0) out += ', ';
        walk(v[i], depth + 1);
      }
      out += ']';
    } else if (v !== null && typeof v === 'object') out += '{…}';
    else if (typeof v === 'string') out += JSON.stringify(clip(v, limit));
    else out += String(v); // number, boolean, null, undefined
  };
  walk(value, 0);
  return out.length > limit ? `${out.slice(0, limit)}…` : out;
}

/** `text`, cut to `limit` characters with an ellipsis (a name in a hostile header may be megabytes long). */
export function clip(text: string, limit = 60): string {
  return text.length > limit ? `${text.slice(0, limit)}…` : text;
}
