import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ChatMessage } from "../../model/model.ts";
import type { Instance } from "../../records/index.ts";
import { toolSpecs } from "./tools.ts";

/** One fine-tuning example in the OpenAI chat format (with tools). */
export interface ChatExample {
  messages: unknown[];
  tools: unknown[];
}

/** The agent's messages from a trajectory file (recipe attempts and usage lines are skipped). */
export function trajectoryMessages(text: string): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    let e: { type?: string; message?: ChatMessage };
    try {
      e = JSON.parse(line);
    } catch {
      continue;
    }
    if (e.type === "message" && e.message) {
      // A new run of the agent (its system prompt) starts a new conversation.
      if (e.message.role === "system") out.length = 0;
      out.push(e.message);
    }
  }
  return out;
}

function toWire(m: ChatMessage): unknown {
  if (m.role !== "assistant" || !m.tool_calls?.length) return m;
  return {
    role: "assistant",
    content: m.content,
    tool_calls: m.tool_calls.map((c) => ({
      id: c.id,
      type: "function",
      function: { name: c.name, arguments: c.arguments },
    })),
  };
}

/** Training data: trajectories of instances the agent built whose every hacking check passed. */
export function exportTrajectories(
  runDir: string,
  instances: Instance[],
  outFile: string,
): { written: number; skipped: { id: string; why: string }[] } {
  const lines: string[] = [];
  const skipped: { id: string; why: string }[] = [];
  for (const inst of instances) {
    const id = inst.instance_id;
    if (inst.builder.kind !== "model") continue;
    const bad = inst.checks.filter((c) => !c.passed);
    if (bad.length) {
      skipped.push({ id, why: `failed checks: ${bad.map((c) => c.check).join(", ")}` });
      continue;
    }
    const file = join(runDir, "trajectories", `${id}.jsonl`);
    if (!existsSync(file)) {
      skipped.push({ id, why: "no trajectory file" });
      continue;
    }
    const messages = trajectoryMessages(readFileSync(file, "utf8"));
    if (!messages.some((m) => m.role === "assistant")) {
      skipped.push({ id, why: "no agent messages in the trajectory" });
      continue;
    }
    const tools = toolSpecs({ generateTests: !!inst.generated_test_patch }).map((t) => ({
      type: "function",
      function: { name: t.name, description: t.description, parameters: t.parameters },
    }));
    lines.push(JSON.stringify({ messages: messages.map(toWire), tools } satisfies ChatExample));
  }
  writeFileSync(outFile, lines.length ? `${lines.join("\n")}\n` : "");
  return { written: lines.length, skipped };
}
