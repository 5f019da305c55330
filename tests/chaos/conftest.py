import pytest

# What the chaos run did and found, for the end of the session's output (the run's own
# output is captured like any test's).
SUMMARY: list[str] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SUMMARY:
        terminalreporter.section("chaos run")
        for line in SUMMARY:
            terminalreporter.write_line(line)
