"""Run the ``lrkit`` command line in a subprocess, as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import lrkit

#: The directory holding the imported ``lrkit`` package (the source tree or site-packages).
PACKAGE_ROOT = str(Path(lrkit.__file__).resolve().parent.parent)
INSTALLED = "site-packages" in lrkit.__file__


def env(**extra: str) -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([PACKAGE_ROOT, e.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    e.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    e.pop("DISPLAY", None)
    e.pop("WAYLAND_DISPLAY", None)
    e.update(extra)
    return e


def run(*args: str, pre: str = "", cwd: str | None = None, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """``python -m lrkit ARGS``; with ``pre``, run that Python code first in the same interpreter."""
    if pre:
        code = f"{pre}\nimport sys\nfrom lrkit._cli import main\nsys.exit(main(sys.argv[1:]))"
        cmd = [sys.executable, "-c", code, *args]
    else:
        cmd = [sys.executable, "-m", "lrkit", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env(**extra_env), cwd=cwd, timeout=300)


def console_script() -> str | None:
    """Path of the installed ``lrkit`` console script next to this interpreter, if any."""
    here = Path(sys.executable).parent / ("lrkit.exe" if os.name == "nt" else "lrkit")
    return str(here) if here.exists() else shutil.which("lrkit")


def assert_one_line_error(p: subprocess.CompletedProcess[str], status: int, *needles: str) -> str:
    assert p.returncode == status, (p.returncode, p.stdout, p.stderr)
    err = p.stderr.strip()
    assert "Traceback" not in p.stderr, p.stderr
    assert len(err.splitlines()) == 1, p.stderr
    for n in needles:
        assert n in err, (n, err)
    return err


#: Limits for ``run_bounded``: a command must finish within these whatever its arguments (SPEC §11).
TIME_LIMIT = 90  # seconds of wall time, generous for a loaded 2-core CI machine
MEMORY_LIMIT = 1536 * 1024 * 1024  # bytes of address space


def _limit_memory() -> None:  # runs in the child between fork and exec
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_bounded(*args: str, cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m lrkit ARGS`` under a wall-time limit and an address-space limit (``setrlimit``).

    A command that hangs raises ``subprocess.TimeoutExpired``; one that grows past the memory limit
    fails with a ``MemoryError`` in the child. Either fails the test.
    """
    import sys as _sys

    if _sys.platform == "win32":
        import pytest

        pytest.skip("resource limits need a POSIX system")
    e = env(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.run([_sys.executable, "-m", "lrkit", *args], capture_output=True, text=True, env=e,
                          cwd=cwd, timeout=TIME_LIMIT, preexec_fn=_limit_memory)
