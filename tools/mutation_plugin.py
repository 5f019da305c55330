"""pytest plugin for tools/mutate.py: import one module from a mutated copy of its source.

Loaded with ``-p tools.mutation_plugin`` before Django or any test imports the module, so every
``from module import name`` sees the mutant. The file on disk is never touched. Environment:
``PAYOPS_MUTANT_MODULE`` (dotted name) and ``PAYOPS_MUTANT_SOURCE`` (path of the mutant's pickled syntax tree).
With ``PAYOPS_MUTATION_TRACE`` it instead records which tests call which functions of the module,
so each mutant runs only the tests that reach it.
"""

from __future__ import annotations

import ast
import importlib.abc
import importlib.machinery
import json
import os
import pickle
import sys
from collections.abc import Iterator, Sequence
from types import CodeType, FrameType, ModuleType

import pytest


class _MutantLoader(importlib.machinery.SourceFileLoader):
    def __init__(self, fullname: str, path: str, mutated_tree: ast.Module) -> None:
        super().__init__(fullname, path)
        self.mutated_tree = mutated_tree

    def get_code(self, fullname: str) -> CodeType:
        # compiled from the mutant's syntax tree (the file's own line numbers), never from or
        # into the bytecode cache
        return compile(self.mutated_tree, self.path, "exec", dont_inherit=True)


class _MutantFinder(importlib.abc.MetaPathFinder):
    def __init__(self, module: str, mutated_tree: ast.Module) -> None:
        self.module = module
        self.mutated_tree = mutated_tree

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.module:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.origin is None:
            return None
        spec.loader = _MutantLoader(fullname, spec.origin, self.mutated_tree)
        return spec


def _install() -> None:
    module = os.environ.get("PAYOPS_MUTANT_MODULE")
    source_path = os.environ.get("PAYOPS_MUTANT_SOURCE")
    if not module or not source_path:
        return
    if module in sys.modules:
        raise RuntimeError(f"{module} was imported before the mutation plugin could replace it")
    with open(source_path, "rb") as source:
        tree = pickle.load(source)  # noqa: S301  # written by tools/mutate.py for this run
    sys.meta_path.insert(0, _MutantFinder(module, tree))


_install()


# --- which tests call which functions of the module (one traced run, before the mutants) ----------

_TRACE = os.environ.get("PAYOPS_MUTATION_TRACE")  # "<module file>|<output json>"
_calls: dict[str, set[int]] = {}
_current_test = ["<collection>"]


def _install_trace() -> None:
    if not _TRACE:
        return
    import threading

    target = os.path.realpath(_TRACE.split("|", 1)[0])

    def trace(frame: FrameType, event: str, arg: object) -> None:
        if event == "call" and frame.f_code.co_filename == target:
            _calls.setdefault(_current_test[0], set()).add(frame.f_code.co_firstlineno)

    sys.settrace(trace)  # a global tracer: "call" events only, never lines
    threading.settrace(trace)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    _current_test[0] = item.nodeid
    yield
    _current_test[0] = "<between tests>"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _TRACE:
        output = _TRACE.split("|", 1)[1]
        with open(output, "w", encoding="utf-8") as out:
            json.dump({test: sorted(lines) for test, lines in _calls.items()}, out)


_install_trace()
