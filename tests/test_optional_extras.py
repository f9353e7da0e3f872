"""docs/architecture.md, rule 4: the packages import with the core dependencies alone."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

BLOCKED = [
    "boto3",
    "botocore",
    "aiobotocore",
    "flask",
    "django",
    "rest_framework",
    "fastapi",
    "starlette",
    "uvicorn",
    "moto",
    "pytest",
]

SCRIPT = textwrap.dedent(
    """
    import importlib, importlib.abc, pkgutil, sys

    BLOCKED = set({blocked!r})

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {{name!r}} (blocked)", name=name)
            return None

    sys.meta_path.insert(0, Block())
    # Modules that import a framework or pytest on purpose (docs/architecture.md, rule 4).
    ADAPTERS = ("midil_sync.flask", "midil_sync.django", "midil_async.fastapi",
                "midil_common.testing.pytest_plugin")
    imported = []
    for top in ("midil_common", "midil_sync", "midil_async"):
        pkg = importlib.import_module(top)
        imported.append(top)
        for info in pkgutil.walk_packages(pkg.__path__, top + "."):
            if info.name.startswith(ADAPTERS):
                continue
            importlib.import_module(info.name)
            imported.append(info.name)
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    assert not leaked, leaked
    print(len(imported))
    """
).format(blocked=BLOCKED)


def test_packages_import_without_any_extra() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) >= 3


def test_import_has_no_side_effects() -> None:
    code = (
        "import logging, midil_common, midil_sync, midil_async;"
        "root = logging.getLogger();"
        "assert root.handlers == [], root.handlers;"
        "handlers = logging.getLogger('midil').handlers;"
        "assert [type(h) for h in handlers] == [logging.NullHandler], handlers"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == ""


# Each adapter, the framework packages it needs (any one of them missing must be named), and the
# install command its ImportError must show.
NEEDS_EXTRA = [
    ("midil_sync.flask", ("flask", "werkzeug"), "pip install 'midil-kit[flask]'"),
    ("midil_sync.django", ("django", "asgiref"), "pip install 'midil-kit[django]'"),
    ("midil_sync.django.conf", ("django",), "pip install 'midil-kit[django]'"),
    ("midil_sync.django.jsonapi", ("django",), "pip install 'midil-kit[django]'"),
    ("midil_sync.django.drf", ("rest_framework",), "pip install 'midil-kit[django]'"),
    ("midil_async.fastapi", ("fastapi", "starlette"), "pip install 'midil-kit[fastapi]'"),
    ("midil_common.testing.pytest_plugin", ("pytest",), "pip install pytest"),
]

MISSING_SCRIPT = textwrap.dedent(
    """
    import importlib, importlib.abc, sys

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == {blocked!r}:
                raise ModuleNotFoundError(f"No module named {{name!r}} (blocked)", name=name)
            return None

    sys.meta_path.insert(0, Block())
    try:
        importlib.import_module({module!r})
    except ImportError as exc:
        assert type(exc) is ImportError, repr(exc)
        assert isinstance(exc.__cause__, ModuleNotFoundError), repr(exc.__cause__)
        print(exc)
    else:
        raise SystemExit("imported without " + {blocked!r})
    """
)


@pytest.mark.parametrize(
    ("module", "blocked", "command"),
    [(module, name, command) for module, names, command in NEEDS_EXTRA for name in names],
)
def test_a_missing_framework_names_the_extra(module: str, blocked: str, command: str) -> None:
    script = MISSING_SCRIPT.format(module=module, blocked=blocked)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert command in result.stdout
    assert repr(blocked) in result.stdout  # the missing package is named too


# Each AWS client, built without its extra, must name the install command, not fail on a bare
# ModuleNotFoundError from boto3, botocore or aiobotocore.
AWS_CLIENTS = [
    (
        "SQSConsumer",
        "midil_{shell}.events",
        "SQSConsumer('https://sqs.us-east-1.amazonaws.com/1/q')",
    ),
    (
        "SQSPublisher",
        "midil_{shell}.events",
        "SQSPublisher('https://sqs.us-east-1.amazonaws.com/1/q')",
    ),
    ("EventBridgePublisher", "midil_{shell}.events", "EventBridgePublisher('bus')"),
    ("EventBridgeScheduler", "midil_{shell}.events", "EventBridgeScheduler()"),
    ("CognitoUserClient", "midil_{shell}.auth.users", "CognitoUserClient('us-east-1_x', 'c')"),
]
EXTRA_OF = {"sync": "aws", "async": "aws-async"}

AWS_SCRIPT = textwrap.dedent(
    """
    import importlib, importlib.abc, sys

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("boto3", "botocore", "aiobotocore"):
                raise ModuleNotFoundError(f"No module named {{name!r}} (blocked)", name=name)
            return None

    sys.meta_path.insert(0, Block())
    module = importlib.import_module({module!r})
    {name} = getattr(module, {name!r})
    try:
        {call}
    except ImportError as exc:
        assert type(exc) is ImportError, repr(exc)
        print(exc)
    else:
        raise SystemExit("built without boto3")
    """
)


@pytest.mark.parametrize("shell", ["sync", "async"])
@pytest.mark.parametrize(("name", "module", "call"), AWS_CLIENTS, ids=[c[0] for c in AWS_CLIENTS])
def test_an_aws_client_without_its_extra_names_the_install_command(
    shell: str, name: str, module: str, call: str
) -> None:
    script = AWS_SCRIPT.format(module=module.format(shell=shell), name=name, call=call)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert f"pip install 'midil-kit[{EXTRA_OF[shell]}]'" in result.stdout
