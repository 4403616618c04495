"""The apps import in one direction (docs/architecture.md): the import-linter contracts in
.importlinter hold, and no module hides an import of another app inside a function (the way a
cycle used to be hidden). Connecting a contract at start (AppConfig.ready in an app's apps.py) is
the one place an app imports another lazily: it runs once every app is loaded."""
import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_linter_contracts_are_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--config", str(ROOT / ".importlinter"), "--no-cache"],
        cwd=ROOT, capture_output=True, text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def function_imports_of_other_apps(root: Path = ROOT / "apps") -> list[str]:
    """path:line for each import of another app's module inside a function (apps.py excepted);
    `root` is the folder holding the apps, paths are reported relative to it."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.parts or path.name == "apps.py":
            continue
        own_app = path.relative_to(root).parts[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                elif isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                else:
                    continue
                for name in names:
                    parts = name.split(".")
                    if parts[0] == "apps" and len(parts) > 1 and parts[1] != own_app:
                        found.append(f"{path.relative_to(root)}:{node.lineno} {function.name}() imports {name}")
    return found


def test_no_import_of_another_app_inside_a_function():
    assert function_imports_of_other_apps() == []


def test_the_check_reports_an_import_hidden_in_a_function(tmp_path):
    """The check above can fail: another app imported inside a function is reported; the same
    app's module, a top-level import and an app's ready() are not."""
    (tmp_path / "crm").mkdir()
    (tmp_path / "crm" / "services.py").write_text(
        "from apps.inbox.models import Message\n\n\n"
        "def merge():\n    from apps.crm.models import Customer\n    from apps.inbox.models import Conversation\n"
    )
    (tmp_path / "crm" / "apps.py").write_text("def ready():\n    from apps.inbox.customers import customers_connect\n")
    assert function_imports_of_other_apps(tmp_path) == ["crm/services.py:6 merge() imports apps.inbox.models"]


# Imports inside a function within one app, each with why it cannot be at the top. Anything else
# closes a cycle the module should not have: tasks are queued by name (the *_TASK strings below),
# the model's health line is connected at start (apps/connectors/apps.py).
ALLOWED_FUNCTION_IMPORTS = {
    # DRF's settings load this class while rest_framework.views (which errors.py imports) is loading.
    "core/negotiation.py .errors",
}


def function_imports_of_own_modules(root: Path = ROOT / "apps") -> list[str]:
    """path + module for each import of a project module inside a function (apps.py excepted)."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.parts or path.name == "apps.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("apps.")):
                    found.append(f"{path.relative_to(root)} {'.' * node.level}{node.module or ''}")
                elif isinstance(node, ast.Import):
                    found += [f"{path.relative_to(root)} {a.name}" for a in node.names if a.name.startswith("apps.")]
    return found


def test_no_module_imports_a_module_of_its_own_app_inside_a_function():
    assert set(function_imports_of_own_modules()) <= ALLOWED_FUNCTION_IMPORTS


def test_the_check_reports_a_module_of_the_same_app_imported_in_a_function(tmp_path):
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "services.py").write_text(
        "from .models import Message\n\n\ndef deliver():\n    from .tasks import message_deliver\n"
    )
    (tmp_path / "inbox" / "apps.py").write_text("def ready():\n    from .signals import connect\n")
    assert function_imports_of_own_modules(tmp_path) == ["inbox/services.py .tasks"]


def test_every_task_queued_by_name_is_a_registered_task():
    """Services queue their own app's tasks by name (tasks.py imports the services): each name must be a task."""
    from celery import current_app

    named = {}
    for path in sorted((ROOT / "apps").rglob("*.py")):
        for name, task in re.findall(r'^([A-Z_]+_TASK) = "([\w.]+)"', path.read_text(encoding="utf-8"), re.M):
            named[f"{path.relative_to(ROOT)}:{name}"] = task
    assert len(named) >= 9
    assert {where: task for where, task in named.items() if task not in current_app.tasks} == {}
