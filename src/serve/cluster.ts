/**
 * Many serve processes as one service. Each process registers itself in Redis (its URL and load, under a
 * key that expires unless refreshed, so a process killed with -9 drops out by itself) and names itself in
 * every session id. Any process can take any request: a session's requests are forwarded to the process
 * holding its container, and a new session goes to the least loaded process. Without Redis there is one
 * process and nothing to forward. Alternatives side by side behind one interface.
 */
import { Redis } from "ioredis";
import { log } from "../util/log.ts";
import type { NodeInfo } from "./api.ts";

export interface Cluster {
  readonly kind: "solo" | "redis";
  /** Every live process, this one included, least loaded first (ties: this one first). */
  nodes(): Promise<NodeInfo[]>;
  node(id: string): Promise<NodeInfo | undefined>;
  /** Publish this process's current load now (after a session starts or ends). */
  touch(): void;
  close(): Promise<void>;
}

function byLoad(self: string) {
  const load = (n: NodeInfo) => n.sessions / Math.max(1, n.max_sessions);
  return (a: NodeInfo, b: NodeInfo) => load(a) - load(b) || Number(b.node === self) - Number(a.node === self);
}

export function soloCluster(self: () => NodeInfo): Cluster {
  return {
    kind: "solo",
    nodes: async () => [self()],
    node: async (id) => (id === self().node ? self() : undefined),
    touch: () => {},
    close: async () => {},
  };
}

export interface RedisClusterOptions {
  url: string;
  /** Key prefix: processes with the same prefix form one service. */
  prefix?: string;
  /** A process is dropped this long after its last heartbeat. */
  ttlMs?: number;
}

export async function redisCluster(self: () => NodeInfo, o: RedisClusterOptions): Promise<Cluster> {
  const prefix = o.prefix ?? "sweu:serve";
  const ttlMs = o.ttlMs ?? 15_000;
  const redis = new Redis(o.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
  redis.on("error", (e) => log.warn({ err: e.message }, "serve cluster: redis"));
  await redis.connect();
  const key = (id: string) => `${prefix}:node:${id}`;
  const publish = () =>
    redis
      .set(key(self().node), JSON.stringify(self()), "PX", ttlMs)
      .then(() => undefined)
      .catch((e: Error) => log.warn({ err: e.message }, "serve cluster: heartbeat failed"));
  await redis.set(key(self().node), JSON.stringify(self()), "PX", ttlMs);
  const beat = setInterval(() => void publish(), Math.max(200, ttlMs / 3));
  beat.unref();
  const readAll = async (): Promise<NodeInfo[]> => {
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, found] = await redis.scan(cursor, "MATCH", key("*"), "COUNT", 200);
      cursor = next;
      keys.push(...found);
    } while (cursor !== "0");
    if (!keys.length) return [];
    const values = await redis.mget(...keys);
    return values.filter((v): v is string => !!v).map((v) => JSON.parse(v) as NodeInfo);
  };
  return {
    kind: "redis",
    async nodes() {
      try {
        const all = (await readAll()).filter((n) => n.node !== self().node);
        return [self(), ...all].sort(byLoad(self().node));
      } catch (e) {
        log.warn(
          { err: (e as Error).message },
          "serve cluster: cannot list processes; placing sessions here",
        );
        return [self()];
      }
    },
    async node(id) {
      if (id === self().node) return self();
      const v = await redis.get(key(id)).catch(() => null);
      return v ? (JSON.parse(v) as NodeInfo) : undefined;
    },
    touch: () => void publish(),
    async close() {
      clearInterval(beat);
      await redis.del(key(self().node)).catch(() => undefined);
      redis.disconnect();
    },
  };
}
