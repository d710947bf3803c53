"""The arrow points one way (avr_studio -> backend), and light modules stay light at import time."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "transformers", "trl", "vllm", "peft", "accelerate", "datasets")
# Everything the GUI and the CLI import: the window opens, and `avr-studio --help` answers, without torch.
LIGHT_MODULES = [
    "backend.domain", "backend.protocol", "backend.avr", "backend.store", "backend.config", "backend.presets",
    "backend.typed_json",
    "backend.job_requests", "backend.io", "backend.cli", "backend.cli.commands", "backend.cli.project_cmds",
    "backend.cli.io_cmds", "backend.cli.worker_cmds", "backend.cli.curation_cmds", "backend.curation.derived",
    "backend.curation.annotations", "backend.curation.prompt_trees", "backend.worker.submission",
    "backend.worker.request_builders", "backend.worker.ingest", "backend.worker.job_session",
    "backend.worker.client", "backend.cli.train_cmds", "backend.worker.training_stages", "backend.worker.before_after",
    "backend.training.runs", "backend.training.records",
]


def _imported_top_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_backend_never_imports_qt_or_the_gui():
    offenders = []
    for path in (ROOT / "backend").rglob("*.py"):
        bad = _imported_top_names(path) & {"PySide6", "avr_studio", "pyqtgraph", "shiboken6"}
        if bad:
            offenders.append(f"{path.relative_to(ROOT)}: {sorted(bad)}")
    assert not offenders, "backend/ must not import Qt or the GUI:\n" + "\n".join(offenders)


def test_gui_never_imports_heavy_ml_packages_at_module_level():
    offenders = []
    for path in (ROOT / "avr_studio").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:  # module level only
            names = []
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module.split(".")[0]]
            bad = set(names) & set(HEAVY)
            if bad:
                offenders.append(f"{path.relative_to(ROOT)}: {sorted(bad)}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("module", LIGHT_MODULES)
def test_light_modules_do_not_pull_heavy_packages(module):
    code = (
        "import importlib, sys\n"
        f"importlib.import_module({module!r})\n"
        f"heavy = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"{module} imports {out.stdout.strip()} at import time"


def test_building_the_cli_parser_imports_no_heavy_package():
    code = (
        "import sys\n"
        "from backend.cli.commands import build_parser\n"
        "build_parser()\n"
        f"print(','.join(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"registering the CLI commands imports {out.stdout.strip()}"
