/**
 * Can this machine reach a download host? Recipes whose toolchain comes from one vendor host (Gradle
 * distributions, the .NET SDK) ask before planning, so a host that cannot be reached ends the task as
 * `toolchain_unavailable` with a plain message instead of an image build that fails on a download.
 * Any HTTP answer counts as reachable (a 404 still proves the host answers); answers are cached per
 * process. SWEU_ASSUME_REACHABLE=1 skips the probe (air-gapped mirrors configured elsewhere).
 */
const cache = new Map<string, Promise<boolean>>();

export function reachable(url: string, timeoutMs = 8_000): Promise<boolean> {
  if (process.env.SWEU_ASSUME_REACHABLE === "1") return Promise.resolve(true);
  let p = cache.get(url);
  if (!p) {
    p = fetch(url, { method: "HEAD", redirect: "manual", signal: AbortSignal.timeout(timeoutMs) }).then(
      () => true,
      () => false,
    );
    cache.set(url, p);
  }
  return p;
}

/** The hosts among `urls` that do not answer, as "host" strings, in order. */
export async function unreachableHosts(urls: string[]): Promise<string[]> {
  const answers = await Promise.all(urls.map((u) => reachable(u)));
  return urls.filter((_, i) => !answers[i]).map((u) => new URL(u).host);
}
