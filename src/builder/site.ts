import { cpSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";

/**
 * Site certificate authorities. Where the host reaches the package registries through a TLS-inspecting
 * proxy, the images need the same extra CAs (Debian keeps local ones in /usr/local/share/ca-certificates).
 * SWEU_EXTRA_CA_DIR overrides the directory; SWEU_EXTRA_CA_DIR="" turns this off.
 */
export function siteCaDir(): string | undefined {
  const dir = process.env.SWEU_EXTRA_CA_DIR ?? "/usr/local/share/ca-certificates";
  if (!dir || !existsSync(dir)) return undefined;
  return readdirSync(dir).some((f) => f.endsWith(".crt")) ? dir : undefined;
}

/** Copy site CAs into a build context; returns the context-relative directory or undefined. */
export function stageSiteCas(contextDir: string): string | undefined {
  const src = siteCaDir();
  if (!src) return undefined;
  const dest = join(contextDir, "certs");
  mkdirSync(dest, { recursive: true });
  for (const f of readdirSync(src)) if (f.endsWith(".crt")) cpSync(join(src, f), join(dest, f));
  return "certs";
}
