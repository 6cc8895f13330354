"""Other people's tools against an exported swe-universe dataset, as their users run them.

- Hugging Face `datasets` loads dataset.jsonl and dataset.parquet.
- mini-swe-agent (its DefaultAgent, DockerEnvironment pointed at podman, DeterministicModel scripted as an
  agent would act) runs in each instance's image as named by `image_name`: it runs the project's tests the
  project's way, applies the gold fix with shell commands, and submits `git add -A && git diff --cached`.
  A second, no-op agent only runs the tests and submits. Both submissions are written as SWE-bench
  predictions for our `evaluate` to grade.
- A SkyRL-style evaluator (as its mini-swe-agent example does): a fresh container of `image_name`,
  `git apply` of the patch in a heredoc, then `bash <<'EOF' eval_script EOF`; reward = exit 0.
- The same image entered as a non-root user: what holds.

Usage: python agents.py SPEC.json   (SPEC: dataset_dir, out_dir, engine, run_args, commands: {id: cmd},
tools: {id: program}, and optionally only: [ids])
Prints one JSON report on stdout.
"""

import json
import subprocess
import sys
import uuid
from pathlib import Path

from datasets import load_dataset
from minisweagent.agents.default import DefaultAgent
from minisweagent.environments.docker import DockerEnvironment
from minisweagent.models.test_models import DeterministicModel, make_output

SUBMIT = "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && git add -A && git diff --cached"
SYSTEM = "You are a helpful assistant that can interact with a computer."
INSTANCE = "Please solve this issue: {{task}}"


def load_rows(dataset_dir: Path) -> tuple[list[dict], dict]:
    jl = load_dataset("json", data_files=str(dataset_dir / "dataset.jsonl"))["train"]
    # A single run's export has dataset.parquet; a universe run's, Hugging Face's shards under data/.
    single = dataset_dir / "dataset.parquet"
    shards = [str(single)] if single.exists() else sorted(str(p) for p in (dataset_dir / "data").glob("*.parquet"))
    pq = load_dataset("parquet", data_files=shards)["train"]
    rows = [dict(r) for r in jl]
    info = {
        "jsonl_rows": len(jl),
        "parquet_rows": len(pq),
        "same_columns": jl.column_names == pq.column_names,
        "same_rows": [dict(r) for r in pq] == rows,
        "columns": jl.column_names,
    }
    return rows, info


def run_agent(row: dict, spec: dict, actions: list[str]) -> dict:
    """mini-swe-agent in the instance's image; returns the steps' return codes and outputs, and the patch."""
    model = DeterministicModel(outputs=[make_output(f"THOUGHT: step {i}", [{"command": a}]) for i, a in enumerate(actions)])
    env = DockerEnvironment(
        image=row["image_name"],
        cwd="/testbed",
        executable=spec["engine"],
        run_args=["--rm", *spec["run_args"]],
        timeout=600,
        pull_timeout=900,
    )
    steps: list[dict] = []
    original = env.execute

    def recording(action, cwd="", *, timeout=None):
        out = original(action, cwd, timeout=timeout)
        steps.append({"command": action.get("command", ""), "returncode": out["returncode"], "output": out["output"][-4000:]})
        return out

    env.execute = recording  # type: ignore[method-assign]
    try:
        agent = DefaultAgent(model, env, system_template=SYSTEM, instance_template=INSTANCE, step_limit=len(actions) + 1)
        info = agent.run(row["problem_statement"])
    finally:
        env.cleanup()
    return {"exit_status": info.get("exit_status"), "submission": info.get("submission") or "", "steps": steps}


def engine(spec: dict, *args: str, stdin: str | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run([spec["engine"], *args], input=stdin, text=True, capture_output=True, timeout=timeout)


def skyrl_reward(row: dict, spec: dict, patch: str) -> dict:
    """SkyRL's evaluate_trajectory, step by step: git apply the patch in a heredoc, run eval_script, reward = exit 0."""
    started = engine(spec, "run", "-d", "--rm", *spec["run_args"], "-w", "/testbed", row["image_name"], "sleep", "1h")
    if started.returncode != 0:
        return {"error": started.stderr[-2000:]}
    cid = started.stdout.strip().splitlines()[-1]
    try:
        delim = f"PATCH_{uuid.uuid4().hex}"
        apply = engine(spec, "exec", cid, "bash", "-lc", f"git apply <<'{delim}'\n{patch}\n{delim}")
        if apply.returncode != 0 and patch.strip():
            return {"reward": 0, "apply_failed": True, "output": (apply.stdout + apply.stderr)[-2000:]}
        run = engine(spec, "exec", cid, "bash", "-lc", f"bash <<'EOF'\n{row['eval_script']}\nEOF")
        return {"reward": 1 if run.returncode == 0 else 0, "exit_code": run.returncode, "output": (run.stdout + run.stderr)[-2000:]}
    finally:
        engine(spec, "rm", "-f", cid, timeout=120)


def eval_script_on_bad_patch(row: dict, spec: dict) -> dict:
    """eval_script given a patch file that does not apply: a non-zero exit and a clear message."""
    script = "printf 'not a patch\\n' > /tmp/bad.diff && cat > /tmp/e.sh && bash /tmp/e.sh /tmp/bad.diff"
    r = engine(spec, "run", "--rm", "-i", *spec["run_args"], row["image_name"], "bash", "-c", script, stdin=row["eval_script"])
    return {"exit_code": r.returncode, "message": (r.stdout + r.stderr).strip().splitlines()[-1:]}


def non_root(row: dict, spec: dict, command: str) -> dict:
    """The image entered as uid 1000: can it read /testbed, run the tests, write to the tree?"""
    probe = f"cd /testbed && ({command}) >/tmp/o 2>&1; echo tests=$?; touch /testbed/.w 2>/dev/null && echo write=yes || echo write=no; git status --porcelain | wc -l"
    r = engine(spec, "run", "--rm", "--user", "1000:1000", *spec["run_args"], row["image_name"], "bash", "-lc", probe)
    lines = r.stdout.strip().splitlines()
    return {"exit_code": r.returncode, "report": lines[-3:]}


def entry_points(row: dict, spec: dict, tool: str) -> dict:
    """The toolchain on PATH in every way in: login bash, plain bash, sh -c, exec without a shell, interactive."""
    ways = {
        "bash -lc": ["bash", "-lc", f"command -v {tool}"],
        "bash -c": ["bash", "-c", f"command -v {tool}"],
        "sh -c": ["sh", "-c", f"command -v {tool}"],
        "exec": ["which", tool],
    }
    out = {}
    for name, argv in ways.items():
        r = engine(spec, "run", "--rm", *spec["run_args"], "-w", "/tmp", row["image_name"], *argv)
        out[name] = r.stdout.strip()
    r = engine(spec, "run", "--rm", "-i", *spec["run_args"], row["image_name"], "bash", "-i", stdin=f"command -v {tool}\nexit\n")
    out["bash -i"] = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
    r = engine(spec, "run", "--rm", *spec["run_args"], row["image_name"], "bash", "-lc", "cd /testbed && git status --porcelain")
    out["git status"] = r.stdout.strip()
    return out


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    rows, info = load_rows(Path(spec["dataset_dir"]))
    if spec.get("only"):
        rows = [r for r in rows if r["instance_id"] in spec["only"]]
    report: dict = {"datasets": info, "instances": {}}
    preds = []
    for row in rows:
        iid = row["instance_id"]
        command = spec["commands"][iid]
        fix = f"patch -p1 <<'SWEU_FIX'\n{row['patch']}\nSWEU_FIX"
        gold = run_agent(row, spec, [command, fix, SUBMIT])
        noop = run_agent(row, spec, [command, SUBMIT])
        preds.append({"instance_id": iid, "model_name_or_path": "msa-gold-by-shell", "model_patch": gold["submission"]})
        preds.append({"instance_id": iid, "model_name_or_path": "msa-noop", "model_patch": noop["submission"]})
        report["instances"][iid] = {
            "image_name": row["image_name"],
            "gold_agent": gold,
            "noop_agent": noop,
            "skyrl": {"gold": skyrl_reward(row, spec, row["patch"]), "agent": skyrl_reward(row, spec, gold["submission"]), "empty": skyrl_reward(row, spec, "")},
            "bad_patch": eval_script_on_bad_patch(row, spec),
            "non_root": non_root(row, spec, command),
            "entry": entry_points(row, spec, spec["tools"][iid]),
        }
    out = Path(spec["out_dir"])
    out.mkdir(parents=True, exist_ok=True)
    for model in sorted({p["model_name_or_path"] for p in preds}):
        lines = [json.dumps(p) + "\n" for p in preds if p["model_name_or_path"] == model]
        (out / f"preds-{model}.jsonl").write_text("".join(lines))
    (out / "report.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
