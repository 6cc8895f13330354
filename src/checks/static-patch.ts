/**
 * Where a verifier could get the fix instead of testing for it: the gold or candidate patch, the upstream
 * repository (decisive), other network fetches and patches applied at evaluation time (evidence). A script
 * that applies its own copy of the test patch (SWE-bench's `git apply -v - <<'EOF_…'`) is honest.
 */
import { presentFiles } from "../harness/run-state.ts";
import { commandSites, type ShellLine, unwrap, words } from "./shell.ts";
import { at, eachCommand, type StaticContext, type StaticRule, TEST_PATH } from "./static-rule.ts";

const NET = /^(?:curl|wget|aria2c|nc|ncat|ssh|scp|rsync|ftp|telnet|http|httpie)$/;
const INSTALL =
  /^(?:pip[\d.]*\s+install|python[\d.]*\s+-m\s+pip\s+install|npm\s+(?:install|i|ci)|yarn(?:\s+install)?$|yarn\s+add|pnpm\s+(?:install|add|i)|go\s+(?:get|mod\s+download|install)|cargo\s+(?:fetch|install)|apt(?:-get)?\s+install|gem\s+install|bundle\s+install|composer\s+install|uv\s+(?:pip\s+install|sync|add)|poetry\s+install|conda\s+install)\b/;
const CODE_HOST =
  /^(?:[\w-]+\.)?(?:github\.com|githubusercontent\.com|gitlab\.com|bitbucket\.org|codeberg\.org|gitee\.com|sourceforge\.net)$/i;
const GIT_REMOTE = /^(?:clone|fetch|pull|ls-remote|submodule|remote)$/;

const urls = (cmd: string) => words(cmd).filter((w) => /^(?:https?|git|ssh):\/\/|^git@/.test(w));
const host = (u: string) => /^(?:\w+:\/\/)?(?:[^@/]+@)?([^/:]+)/.exec(u)?.[1] ?? "";

/**
 * A URL that serves the task's repository or its raw files. Where the repository is not known (or only by a
 * local name), any repository a code host serves to `git` is taken for it, and raw files, archives and API
 * reads of a code host are its files.
 */
function upstreamUrl(u: string, ctx: StaticContext, git = false): boolean {
  const repo = ctx.repo?.toLowerCase();
  const known = !!repo && !repo.startsWith("local/");
  if (known && u.toLowerCase().includes(repo)) return true;
  if (!CODE_HOST.test(host(u)) || known) return false;
  return git || /githubusercontent|codeload|\/raw\/|\/archive\/|\/blob\/|api\.github\.com\/repos/.test(u);
}

function gitRemote(cmd: string): { sub: string; url?: string } | undefined {
  const ws = words(cmd);
  if (ws[0] !== "git") return undefined;
  const sub = ws.find((w, i) => i > 0 && !w.startsWith("-") && !/^-[Cc]$/.test(ws[i - 1] ?? ""));
  if (!sub || !GIT_REMOTE.test(sub)) return undefined;
  if (sub === "remote" && !ws.includes("add") && !ws.includes("update")) return undefined;
  if (sub === "submodule" && !ws.includes("update")) return undefined;
  return { sub, url: urls(cmd)[0] };
}

export const upstream: StaticRule = {
  id: "upstream",
  description: "fetches the upstream repository or its files at evaluation time (the fix is there)",
  decisive: true,
  test: (lines, ctx) =>
    eachCommand(lines, (cmd) => {
      const g = gitRemote(cmd);
      if (g && (!g.url || upstreamUrl(g.url, ctx, true)))
        return `git ${g.sub}${g.url ? ` ${g.url}` : ""} fetches the repository, where the fix is`;
      const tool = words(cmd)[0] ?? "";
      const u = NET.test(tool) ? urls(cmd).find((x) => upstreamUrl(x, ctx)) : undefined;
      return u ? `${tool} fetches ${u}, a file of the upstream repository` : undefined;
    }),
};

export const network: StaticRule = {
  id: "network",
  description:
    "reaches the network at evaluation time, which evaluation does not have (installs are warnings)",
  test: (lines, ctx) => {
    const out = eachCommand(lines, (cmd) => {
      const ws = words(cmd);
      const g = gitRemote(cmd);
      if (g?.url && !upstreamUrl(g.url, ctx, true)) return `git ${g.sub} ${g.url} reaches a remote`;
      if (NET.test(ws[0] ?? "") && !urls(cmd).some((u) => upstreamUrl(u, ctx)))
        return `${ws[0]} reaches the network${urls(cmd)[0] ? ` (${urls(cmd)[0]})` : ""}`;
      if (INSTALL.test(cmd))
        return `warning: installs packages at evaluation time (${ws.slice(0, 2).join(" ")})`;
      return undefined;
    });
    for (const l of lines)
      if (!l.heredoc && /\/dev\/(?:tcp|udp)\//.test(l.text))
        out.push(at(l, "opens a network socket via /dev/tcp"));
    return out;
  },
};

/** Distinctive lines the gold patch adds (long enough not to occur by chance, absent from the test patch). */
export function goldLines(ctx: StaticContext): string[] {
  const testAdded = new Set(addedLines(ctx.test_patch ?? ""));
  return addedLines(ctx.gold_patch).filter(
    (s) => s.length >= 24 && /[A-Za-z]{3}/.test(s) && !testAdded.has(s),
  );
}
function addedLines(patch: string): string[] {
  return patch
    .split("\n")
    .filter((s) => s.startsWith("+") && !s.startsWith("+++"))
    .map((s) => s.slice(1).trim());
}

/** Names of the gold patch, and of the candidate patch our harness (/tmp/sweu) and SWE-bench's (/tmp/patch.diff) write. */
const GOLD_NAME =
  /\bgold[\w.-]*\.(?:patch|diff)\b|\bgold[_-]?patch\b|\bfix\.(?:patch|diff)\b|\bsolution\.(?:patch|diff)\b|\/tmp\/sweu\/patch\.diff\b|\/tmp\/patch\.diff\b/i;

export const goldPatch: StaticRule = {
  id: "gold-patch",
  description: "reads the gold or candidate patch, or contains a line only the fix adds",
  decisive: true,
  test: (lines, ctx, script) => {
    const out: string[] = [];
    for (const l of lines) {
      const m = l.heredoc ? undefined : GOLD_NAME.exec(l.text);
      if (m) out.push(at(l, `refers to ${m[0]}, the fix itself`));
    }
    const gl = goldLines(ctx).find((g) => script.includes(g));
    if (gl) out.push(`contains a line the gold patch adds: ${JSON.stringify(gl.slice(0, 80))}`);
    return out;
  },
};

/** Files the here-document that starts after line `opener` patches (its `+++ b/…` headers). */
function heredocPatchFiles(lines: ShellLine[], opener: ShellLine): string[] {
  const body = lines.filter((l) => l.heredoc && l.opener === opener.text && l.n > opener.n);
  return presentFiles(body.map((l) => l.text).join("\n"));
}

export const appliesPatch: StaticRule = {
  id: "applies-patch",
  description: "applies a patch at evaluation time that is not the task's test patch",
  test: (lines, ctx) => {
    const out: string[] = [];
    for (const s of commandSites(lines)) {
      const ws = words(unwrap(s.cmd));
      const isApply = (ws[0] === "git" && /^(?:apply|am)$/.test(ws[1] ?? "")) || ws[0] === "patch";
      if (!isApply || ws.includes("--check") || ws.includes("-R") || ws.includes("--reverse")) continue;
      const inline = /<</.test(s.line.text) ? heredocPatchFiles(lines, s.line) : [];
      const named = ws.slice(1).filter((w) => !w.startsWith("-") && !/^(?:apply|am)$/.test(w));
      const tests = (fs: string[]) =>
        fs.length > 0 && fs.every((f) => ctx.test_files.includes(f) || TEST_PATH.test(f));
      if (tests(inline)) continue; // its own copy of the test patch, as SWE-bench's scripts carry
      if (!inline.length && named.length && named.every((f) => /test/i.test(f.split("/").pop() ?? "")))
        continue;
      out.push(at(s.line, `applies a patch (${ws.slice(0, 3).join(" ")}) that is not the test patch`));
    }
    return out;
  },
};

/**
 * The script carries its own copy of the test patch and applies it (SWE-bench's `git apply -v - <<'EOF_…'`):
 * every `diff --git` header of the test patch is in the script, and the script applies a patch.
 */
export function embedsTestPatch(script: string, testPatch: string): boolean {
  const headers = testPatch.split("\n").filter((l) => l.startsWith("diff --git "));
  if (!headers.length || !headers.every((h) => script.includes(h))) return false;
  return /\bgit\s+apply\b|(?:^|\s)patch\s+-/m.test(script);
}
