"""The environment of a result: where and with what it was computed.

Every JSON result carries it (``"environment"``), ``crosscheck env`` prints it as a table and
``crosscheck --version`` its first line, so that two results from two machines, two framework
versions or two commits say what differed between them. ``crosscheck diff`` shows it for both
sides and never counts it as a difference.
"""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

from crosscheck.compare.tolerances import TOLERANCE, ULPS

CHECKOUT = Path(__file__).resolve().parents[2]


def tool_version() -> str:
    try:
        return metadata.version("backprop-crosscheck")
    except metadata.PackageNotFoundError:
        return "unknown"


def commit() -> str | None:
    """The git commit of the checkout the code runs from (with "+changes" when the working
    tree differs from it), or None outside a checkout."""
    if not (CHECKOUT / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=CHECKOUT,
                              capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=CHECKOUT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if head.returncode:
        return None
    return head.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")


def environment(versions: dict[str, str], skipped: dict[str, str] | None = None) -> dict:
    """Python, platform, machine, this tool, the commit, every backend's version (and those
    skipped, with why), and the tolerance policy."""
    return {
        "python": platform.python_version(), "implementation": platform.python_implementation(),
        "platform": platform.platform(), "machine": platform.machine(),
        "crosscheck": tool_version(), "commit": commit(),
        "backends": dict(versions), "skipped": dict(skipped or {}),
        "tolerance": {"first step": f"{ULPS} ulps of the magnitude of each number's terms",
                      "after steps": "relative to the largest value of each array",
                      **{f"{dtype} {phase}": value for (dtype, phase), value in TOLERANCE.items()}},
    }


def installed() -> dict:
    """The environment with every built-in backend that loads here."""
    from crosscheck import backends

    found, skipped = backends.defaults()
    return environment({name: module.version() for name, module in found.items()}, skipped)


def render(env: dict) -> str:
    """``crosscheck env``: one row per item."""
    rows = [("crosscheck", env["crosscheck"]), ("commit", env["commit"] or "(not a checkout)"),
            ("python", f"{env['python']} ({env['implementation']})"),
            ("platform", env["platform"]), ("machine", env["machine"])]
    rows += [(f"backend {name}", version) for name, version in env["backends"].items()]
    rows += [(f"backend {name}", f"not loaded: {why}") for name, why in env["skipped"].items()]
    rows += [(f"tolerance {key}", str(value)) for key, value in env["tolerance"].items()]
    width = max(len(key) for key, _ in rows)
    return "\n".join(f"{key:<{width}}  {value}" for key, value in rows)
