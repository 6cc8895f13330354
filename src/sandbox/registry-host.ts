/** Plain HTTP: asked for with SWEU_REGISTRY_INSECURE=1, and assumed for loopback registries (as docker does). */
export function insecureRegistry(registry: string): boolean {
  if (process.env.SWEU_REGISTRY_INSECURE === "1") return true;
  const host = registry.split("/")[0]!.replace(/:\d+$/, "");
  return host === "localhost" || /^127\./.test(host) || host === "[::1]";
}
