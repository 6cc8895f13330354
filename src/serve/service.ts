/**
 * One serve process, put together: datasets loaded (evaluate's loadDataset), containers of dead serve
 * processes on this host removed (the sandbox's reapOrphans: a restart leaves nothing behind), the
 * session manager, the cluster (Redis or solo) and the HTTP server, listening.
 */
import type { FastifyInstance } from "fastify";
import { InputError, loadDataset } from "../evaluate/inputs.ts";
import type { Instance } from "../records/index.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import { type Cluster, redisCluster, soloCluster } from "./cluster.ts";
import { ServeError } from "./errors.ts";
import { buildServer } from "./server.ts";
import { newNodeId, type ServeConfig, SessionManager } from "./sessions.ts";

export const DEFAULT_CONFIG: Omit<ServeConfig, "node"> = {
  limits: { memory: "4g", pids: 1024, lifetimeS: 3600, idleS: 600, execTimeoutS: 600 },
  allowNetwork: false,
  maxSessions: 16,
  maxGrading: 2,
  maxStarting: 4,
  outputCapBytes: 64 * 1024,
  maxFileBytes: 1024 * 1024,
  maxUploadBytes: 8 * 1024 * 1024,
  gradeTimeoutS: 1800,
  warm: { perSpec: 1, max: 16 },
};

export interface ServiceOptions {
  datasets: readonly string[];
  sandbox: Sandbox;
  token: string;
  host?: string;
  port?: number;
  /** How other serve processes reach this one (default http://<host>:<port>). */
  advertise?: string;
  redis?: { url: string; prefix?: string; ttlMs?: number };
  config?: Partial<Omit<ServeConfig, "node">>;
  /** Instance ids whose pools are filled at start ("all" = every one). */
  prewarm?: readonly string[] | "all";
  /** Largest request body (default: the largest patch plus room for JSON). */
  bodyLimit?: number;
}

export interface Service {
  app: FastifyInstance;
  manager: SessionManager;
  cluster: Cluster;
  url: string;
  node: string;
  /** Names of leftover containers removed at start. */
  reaped: string[];
  /** Settles once the pools of the prewarmed instances are being filled (their images found). */
  prewarmed: Promise<void>;
  close(): Promise<void>;
}

/** Every instance of every dataset; an instance id in two of them is bad input. */
export function loadDatasets(paths: readonly string[]): Instance[] {
  const seen = new Map<string, string>();
  const all: Instance[] = [];
  for (const p of paths) {
    for (const inst of loadDataset(p)) {
      const other = seen.get(inst.instance_id);
      if (other) throw new InputError(`instance ${inst.instance_id} is in both ${other} and ${p}`);
      seen.set(inst.instance_id, p);
      all.push(inst);
    }
  }
  // A service with nothing to serve would listen and refuse every session: say so before listening.
  if (!all.length) throw new InputError(`no instances in ${paths.join(", ")}: nothing to serve`);
  return all;
}

export async function startService(o: ServiceOptions): Promise<Service> {
  const instances = loadDatasets(o.datasets);
  const known = new Set(instances.map((i) => i.instance_id));
  const ids = o.prewarm === "all" ? [...known] : (o.prewarm ?? []);
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length)
    throw new ServeError(
      "unknown_instance",
      `--prewarm names no instance of the dataset: ${unknown.join(", ")}`,
    );
  const reaped = await o.sandbox.reapOrphans();
  const node = newNodeId();
  const config: ServeConfig = {
    ...DEFAULT_CONFIG,
    ...o.config,
    limits: { ...DEFAULT_CONFIG.limits, ...o.config?.limits },
    warm: { ...DEFAULT_CONFIG.warm, ...o.config?.warm },
    node,
  };
  const manager = new SessionManager(o.sandbox, instances, config);
  const host = o.host ?? "127.0.0.1";
  const startedAt = new Date().toISOString();
  let url = o.advertise ?? "";
  const self = () => ({
    node,
    url,
    pid: process.pid,
    sessions: manager.count,
    max_sessions: config.maxSessions,
    started_at: startedAt,
  });
  // The server is built before it listens; its address (for the cluster) is known once it does.
  const clusterBox: { c: Cluster } = { c: soloCluster(self) };
  const app = await buildServer({
    manager,
    cluster: {
      get kind() {
        return clusterBox.c.kind;
      },
      nodes: () => clusterBox.c.nodes(),
      node: (id) => clusterBox.c.node(id),
      touch: () => clusterBox.c.touch(),
      close: () => clusterBox.c.close(),
    },
    token: o.token,
    bodyLimit: o.bodyLimit ?? config.maxUploadBytes * 2 + 64 * 1024,
    self,
  });
  const address = await app.listen({ host, port: o.port ?? 0 });
  if (!url) url = address.replace("0.0.0.0", "127.0.0.1");
  if (o.redis)
    clusterBox.c = await redisCluster(self, o.redis).catch(async (e: unknown) => {
      await app.close(); // nothing listens for a service that could not join its cluster
      throw e;
    });
  const prewarmed = manager.prewarm(ids).catch(() => undefined);
  return { app, manager, cluster: clusterBox.c, url, node, reaped, prewarmed, close: () => app.close() };
}
