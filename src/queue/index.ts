/** Queue factory: alternatives side by side behind a string key. */
import { BullQueue, type BullQueueOptions } from "./bullmq.ts";
import { MemoryQueue, type MemoryQueueOptions } from "./memory.ts";
import { type JobQueue, QUEUE_KINDS, type QueueKind } from "./queue.ts";

export interface QueueOptions {
  memory?: MemoryQueueOptions;
  bullmq?: BullQueueOptions;
}

const FACTORIES: Record<QueueKind, (o: QueueOptions) => JobQueue> = {
  memory: (o) => new MemoryQueue(o.memory ?? { handlers: {} }),
  bullmq: (o) => {
    if (!o.bullmq) throw new Error("the bullmq queue needs a Redis URL");
    return new BullQueue(o.bullmq);
  },
};

export function createQueue(kind: QueueKind | string, o: QueueOptions): JobQueue {
  const make = FACTORIES[kind as QueueKind];
  if (!make) throw new Error(`unknown queue kind "${kind}" (expected one of: ${QUEUE_KINDS.join(", ")})`);
  return make(o);
}

export type * from "./queue.ts";
