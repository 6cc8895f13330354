/**
 * Bytes that should be UTF-8 but may not be (file names and messages from old repositories), as text that
 * loses nothing: valid UTF-8 is decoded as is; each byte that is not part of a valid sequence becomes
 * `\x{NN}`. Never U+FFFD, so two different names never read the same.
 */
const strict = new TextDecoder("utf-8", { fatal: true });

export function isUtf8(bytes: Uint8Array): boolean {
  try {
    strict.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Length of the valid UTF-8 sequence starting at `i`, or 0. */
function sequenceAt(b: Uint8Array, i: number): number {
  const c = b[i]!;
  const n =
    c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n <= 1 || i + n > b.length) return n === 1 ? 1 : 0;
  return isUtf8(b.subarray(i, i + n)) ? n : 0;
}

export function decodeLossless(bytes: Uint8Array): string {
  if (isUtf8(bytes)) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  let out = "";
  for (let i = 0; i < bytes.length; ) {
    const n = sequenceAt(bytes, i);
    if (n === 0) {
      out += `\\x{${bytes[i]!.toString(16).toUpperCase().padStart(2, "0")}}`;
      i++;
    } else {
      out += Buffer.from(bytes.subarray(i, i + n)).toString("utf8");
      i += n;
    }
  }
  return out;
}
