"""End-to-end demo of midil-kit on local defaults: no cloud account, no network beyond loopback.

Each part lives in its own module next to this file and can be run alone:
``demo_jsonapi`` (build, validate and reject JSON:API documents), ``demo_auth`` (verify tokens from a local
issuer), ``demo_http`` (call a local service with a service token and retries), ``demo_web`` (a protected
JSON:API endpoint served by a real framework server), ``demo_events`` (in-process events whose handlers call a
service with the correlation id carried along), ``demo_sessions`` (a user registered and logged in on the
local AWS emulator's Cognito) and ``demo_aws`` (events published to SQS and consumed with their correlation
id, EventBridge and a schedule, on the same emulator).
"""

from __future__ import annotations

import importlib
import pathlib
import sys

PARTS = [
    "demo_jsonapi",
    "demo_auth",
    "demo_http",
    "demo_web",
    "demo_events",
    "demo_sessions",
    "demo_aws",
]


def main() -> int:
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
    for name in PARTS:
        module = importlib.import_module(name)
        print(f"\n{'=' * 78}\n{name}: {(module.__doc__ or '').strip().splitlines()[0]}\n{'=' * 78}")
        module.main()
    print("\nDemo finished.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
