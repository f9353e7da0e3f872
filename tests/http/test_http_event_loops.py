"""One async object, two consecutive event loops: a script calling ``asyncio.run`` twice, or a test
suite with a loop per test. Run in a fresh interpreter with ResourceWarning as an error, so an
unclosed connection of the first loop fails the test."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import asyncio, gc, sys, warnings

    import midil_async
    from midil_common.testing import LocalIssuer

    problems = []
    sys.unraisablehook = lambda u: problems.append(f"{u.exc_type.__name__}: {u.exc_value}")
    warnings.simplefilter("error", ResourceWarning)

    with LocalIssuer() as issuer:
        issuer.register_client("svc", "s3cret-value", scopes=["orders:read"])
        client = midil_async.HttpClient(issuer.url)
        provider = midil_async.ClientCredentialsProvider(issuer.token_url, "svc", "s3cret-value")
        authorizer = midil_async.JWTAuthorizer(issuer.url, accept_any_audience=True)
        token = issuer.mint(sub="alice")

        async def use() -> None:
            assert (await client.get("/.well-known/jwks.json")).status_code == 200
            await provider.invalidate()
            assert (await provider.get_token()).access_token
            assert (await authorizer.verify(token)).sub == "alice"
            await authorizer.hydrate()  # a fetch on this loop's connections

        for _ in range(3):
            asyncio.run(use())

        async def close() -> None:
            await client.aclose()
            await provider.aclose()
            await authorizer.aclose()

        asyncio.run(close())
    gc.collect()
    if problems:
        print("\\n".join(problems))
        sys.exit(1)
    print("ok")
    """
)


def test_async_objects_work_across_consecutive_event_loops() -> None:
    done = subprocess.run(
        [sys.executable, "-W", "error::ResourceWarning", "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "ok"
