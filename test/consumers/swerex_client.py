"""Drive a swe-universe serve session with SWE-ReX's own client (swerex.runtime.remote.RemoteRuntime).

Usage: python swerex_client.py SPEC.json — SPEC holds host (the session's /swerex URL), token, out (where
the results go as JSON: SWE-ReX's client prints to stdout itself), path, find, replace (the fix to write).
"""

import asyncio
import json
import sys

from swerex.exceptions import CommandTimeoutError, NonZeroExitCodeError
from swerex.runtime.abstract import (
    BashAction,
    CloseBashSessionRequest,
    Command,
    CreateBashSessionRequest,
    ReadFileRequest,
    WriteFileRequest,
)
from swerex.runtime.remote import RemoteRuntime


async def main(spec: dict) -> dict:
    rt = RemoteRuntime(host=spec["host"], auth_token=spec["token"], timeout=30)
    out: dict = {"alive": (await rt.is_alive()).is_alive}
    await rt.create_session(CreateBashSessionRequest(session="main"))
    await rt.run_in_session(BashAction(session="main", command="cd calc && export GREETING=hello"))
    obs = await rt.run_in_session(BashAction(session="main", command='pwd; echo "$GREETING"'))
    out["state"] = obs.output
    out["exit_code"] = obs.exit_code
    try:
        await rt.run_in_session(BashAction(session="main", command="exit 3"))
        out["nonzero"] = "not raised"
    except NonZeroExitCodeError as e:
        out["nonzero"] = type(e).__name__
    try:
        await rt.run_in_session(BashAction(session="main", command="sleep 60", timeout=1))
        out["timeout"] = "not raised"
    except CommandTimeoutError as e:
        out["timeout"] = type(e).__name__
    path = spec["path"]
    content = (await rt.read_file(ReadFileRequest(path=path))).content
    out["found"] = spec["find"] in content
    await rt.write_file(WriteFileRequest(path=path, content=content.replace(spec["find"], spec["replace"])))
    r = await rt.execute(
        Command(command=["python3", "-c", "from calc import clamp; print(clamp(50, 0, 10))"], cwd="/testbed")
    )
    out["execute"] = {"stdout": r.stdout, "exit_code": r.exit_code}
    await rt.close_session(CloseBashSessionRequest(session="main"))
    await rt.close()
    return out


if __name__ == "__main__":
    spec = json.load(open(sys.argv[1]))
    result = asyncio.run(main(spec))
    with open(spec["out"], "w") as f:
        json.dump(result, f)
