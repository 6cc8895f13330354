"""SWE-bench's own evaluation scripts for our test projects, as its `swebench` package (4.x) generates them.

Reads a JSON object on stdin: repo, version, ext ("py", "js" or "go"), base_commit, test_patch and
test_cmd. Our projects are not in SWE-bench's tables, so they are registered first, the way the package
registers its own repositories (MAP_REPO_VERSION_TO_SPECS, MAP_REPO_TO_EXT); the test command for Python
is SWE-bench's own pytest command. Prints the script as SWE-bench writes eval.sh (TestSpec.eval_script).
"""

import json
import sys

from swebench.harness.constants import MAP_REPO_TO_EXT, MAP_REPO_VERSION_TO_SPECS
from swebench.harness.constants.python import TEST_PYTEST
from swebench.harness.test_spec.create_scripts import make_eval_script_list

task = json.load(sys.stdin)
repo, version = task["repo"], task["version"]
test_cmd = TEST_PYTEST if task["ext"] == "py" else task["test_cmd"]
specs = {"test_cmd": test_cmd if task["ext"] == "py" else [test_cmd]}
MAP_REPO_VERSION_TO_SPECS.setdefault(repo, {})[version] = specs
MAP_REPO_TO_EXT[repo] = task["ext"]
instance = {
    "repo": repo,
    "version": version,
    "instance_id": f"{repo.replace('/', '__')}-1",
    "base_commit": task["base_commit"],
    "test_patch": task["test_patch"],
}
commands = make_eval_script_list(
    instance, specs, "testbed", "/testbed", task["base_commit"], task["test_patch"]
)
sys.stdout.write("\n".join(["#!/bin/bash", "set -uxo pipefail"] + commands) + "\n")
