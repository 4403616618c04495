"""pytest plugin loaded by .ci/run (-p pytest_ci): in CI nothing may be skipped, and the
exit code pytest decides is written to $CENTRALITA_PYTEST_EXIT_FILE (make would only say 2)."""
import os

import pytest

skipped: list[str] = []


def pytest_runtest_logreport(report):
    # Under xdist the controller receives every worker's reports here too.
    if report.skipped and not hasattr(report, "wasxfail"):
        skipped.append(f"{report.nodeid}: {report.longrepr[2] if isinstance(report.longrepr, tuple) else ''}")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller decides
        return
    if skipped:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        reporter.write("\n")
        reporter.write_line(f"CI: {len(skipped)} test(s) skipped, and nothing may be skipped in CI:", red=True)
        for line in skipped:
            reporter.write_line(f"  {line}", red=True)
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    path = os.environ.get("CENTRALITA_PYTEST_EXIT_FILE")
    if path:
        with open(path, "w") as f:
            f.write(f"{int(session.exitstatus)}\n")
