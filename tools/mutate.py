"""Mutation testing for one module: make one small wrong change at a time, run its tests.

    .venv/bin/python tools/mutate.py orders/state_machine.py            # the module's own tests
    .venv/bin/python tools/mutate.py payops/money.py tests/payops       # or name the tests
    .venv/bin/python tools/mutate.py orders/state_machine.py --list     # the mutants, no runs
    .venv/bin/python tools/mutate.py orders/state_machine.py --show 12  # one mutant as a diff
    .venv/bin/python tools/mutate.py payops/money.py --fail-under 85      # a gate (exit 1 below)

A mutant *survives* when the tests still pass with the change in place: either the tests miss
a wrong rule, or the change is equivalent (docs/testing.md lists the accepted ones). The module
file is never edited: each run imports the mutant through tools/mutation_plugin.py. A first,
traced run records which tests call which of the module's functions; each mutant then runs only
those tests (all of them for module-level code), one pytest process per mutant, one at a time
unless ``--jobs`` says otherwise.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import copy
import difflib
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The tests that speak for each core module (docs/testing.md, "Mutation testing").
MODULE_TESTS: dict[str, list[str]] = {
    "orders/state_machine.py": ["tests/orders/test_state_machine.py"],
    "payops/money.py": ["tests/payops/test_money.py"],
    "orders/services/refunds.py": [
        "tests/orders/services/test_refunds.py",
        "tests/orders/services/test_staff_actions.py",
    ],
    # The fixed orders of the event streams, not their hypothesis search (minutes per mutant).
    "orders/services/stripe_events.py": [
        "tests/webhooks/test_stripe_event_rules.py",
        "tests/webhooks/test_stripe_handlers.py",
        "tests/webhooks/test_malformed_events.py",
        "tests/webhooks/test_payment_checks.py",
        "tests/webhooks/test_event_streams.py::test_the_stream_in_the_order_it_happened_ends_as_the_rules_say",
        "tests/webhooks/test_event_streams.py::test_the_stream_backwards_and_replayed_ends_as_the_rules_say",
    ],
}

_COMPARE_SWAPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_BINOP_SWAPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.FloorDiv,
    ast.FloorDiv: ast.Mult,
}
_CALL_SWAPS = {"max": "min", "min": "max"}


@dataclass(frozen=True)
class Mutant:
    number: int
    node_index: int  # position of the mutated node in ast.walk order
    kind: str
    argument: object
    line: int
    description: str


# --- finding mutants ------------------------------------------------------------------------------


def _untouchable(tree: ast.Module) -> set[int]:
    """Ids of nodes no mutant touches: docstrings, annotations, imports, the module logger."""
    skip: set[int] = set()

    def skip_all(node: ast.AST | None) -> None:
        if node is not None:
            skip.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skip_all(first)
        if isinstance(node, ast.arg | ast.AnnAssign):
            skip_all(node.annotation)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            skip_all(node.returns)
        if isinstance(node, ast.Import | ast.ImportFrom):
            skip_all(node)
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "logger" for t in node.targets):
            skip_all(node)
    return skip


def _parents(tree: ast.AST) -> dict[int, ast.AST]:
    return {id(child): parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}


def _module_level_tables(tree: ast.Module) -> set[int]:
    """Collections assigned at module level: the module's tables (statuses, handlers, currencies)."""
    tables: set[int] = set()
    for statement in tree.body:
        value = statement.value if isinstance(statement, ast.Assign | ast.AnnAssign) else None
        if value is None:
            continue
        pending: list[ast.AST] = [value]
        while pending:
            node = pending.pop()
            if isinstance(node, ast.Subscript):
                continue  # a type (Callable[[A, B], C]), not a table
            if isinstance(node, ast.Dict | ast.Set | ast.Tuple | ast.List):
                tables.add(id(node))
            pending.extend(ast.iter_child_nodes(node))
    return tables


def _attribute_universe(tree: ast.Module) -> dict[str, list[str]]:
    """For ``S.PAID``-style members used in set literals: every member of ``S`` seen there."""
    universe: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Set):
            for element in node.elts:
                if isinstance(element, ast.Attribute) and isinstance(element.value, ast.Name):
                    universe.setdefault(element.value.id, set()).add(element.attr)
    return {name: sorted(members) for name, members in universe.items()}


def find_mutants(tree: ast.Module) -> list[Mutant]:
    skip = _untouchable(tree)
    parents = _parents(tree)
    tables = _module_level_tables(tree)
    universe = _attribute_universe(tree)
    found: list[tuple[int, str, object, int, str]] = []

    for index, node in enumerate(ast.walk(tree)):
        if id(node) in skip:
            continue
        line = getattr(node, "lineno", 0)
        parent = parents.get(id(node))
        if isinstance(node, ast.Compare):
            for position, op in enumerate(node.ops):
                swap = _COMPARE_SWAPS.get(type(op))
                if swap:
                    found.append((index, "compare", position, line, f"{_op(op)} -> {_op(swap())}"))
        elif isinstance(node, ast.BoolOp):
            found.append(
                (index, "boolop", None, line, f"{_op(node.op)} -> {'or' if isinstance(node.op, ast.And) else 'and'}")
            )
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            found.append((index, "drop_not", None, line, "'not' removed"))
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINOP_SWAPS:
            found.append((index, "binop", None, line, f"{_op(node.op)} -> {_op(_BINOP_SWAPS[type(node.op)]())}"))
        elif isinstance(node, ast.Constant) and not isinstance(parent, ast.JoinedStr | ast.FormattedValue):
            value = node.value
            if isinstance(value, bool):
                found.append((index, "constant", not value, line, f"{value} -> {not value}"))
            elif isinstance(value, int):
                found.append((index, "constant", value + 1, line, f"{value} -> {value + 1}"))
            elif isinstance(value, str):
                replacement = "" if value else "XX"
                found.append((index, "constant", replacement, line, f"{value!r} -> {replacement!r}"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _CALL_SWAPS:
            found.append((index, "call", None, line, f"{node.func.id}() -> {_CALL_SWAPS[node.func.id]}()"))
        elif _deletable(node):
            found.append((index, "delete", None, line, f"statement deleted: {_short(node)}"))

        if isinstance(node, ast.Set) or (
            isinstance(node, ast.Tuple | ast.List) and id(node) in tables and len(node.elts) > 1
        ):
            for position, element in enumerate(node.elts):
                found.append((index, "drop_element", position, line, f"{_short(element)} removed from collection"))
        if isinstance(node, ast.Set):
            names = {e.value.id for e in node.elts if isinstance(e, ast.Attribute) and isinstance(e.value, ast.Name)}
            if len(names) == 1 and len(node.elts) == len(
                [e for e in node.elts if isinstance(e, ast.Attribute) and isinstance(e.value, ast.Name)]
            ):
                name = names.pop()
                present = {e.attr for e in node.elts if isinstance(e, ast.Attribute)}
                for member in universe.get(name, []):
                    if member not in present:
                        found.append((index, "add_element", (name, member), line, f"{name}.{member} added to set"))
        if isinstance(node, ast.Dict) and id(node) in tables:
            for position, key in enumerate(node.keys):
                if key is not None:
                    found.append((index, "drop_key", position, line, f"entry {_short(key)} removed from table"))

    return [
        Mutant(number, node_index, kind, argument, line, description)
        for number, (node_index, kind, argument, line, description) in enumerate(found, start=1)
    ]


def _deletable(node: ast.AST) -> bool:
    """A call made for its effect, or a value written onto an object (``row.status = ...``)."""
    if isinstance(node, ast.Expr):
        return isinstance(node.value, ast.Call)
    return isinstance(node, ast.Assign) and any(isinstance(t, ast.Attribute) for t in node.targets)


def _op(op: ast.AST) -> str:
    return {
        ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
        ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not", ast.And: "and", ast.Or: "or",
        ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.FloorDiv: "//",
    }.get(type(op), type(op).__name__)  # fmt: skip


def _short(node: ast.AST) -> str:
    text = ast.unparse(node).replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."


# --- applying a mutant ----------------------------------------------------------------------------


def apply_mutant(tree: ast.Module, mutant: Mutant) -> ast.Module:
    mutated = copy.deepcopy(tree)
    node = list(ast.walk(mutated))[mutant.node_index]
    parents = _parents(mutated)
    kind, argument = mutant.kind, mutant.argument
    if kind == "compare":
        assert isinstance(node, ast.Compare) and isinstance(argument, int)
        node.ops[argument] = _COMPARE_SWAPS[type(node.ops[argument])]()
    elif kind == "boolop":
        assert isinstance(node, ast.BoolOp)
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif kind == "drop_not":
        assert isinstance(node, ast.UnaryOp)
        _replace(parents[id(node)], node, node.operand)
    elif kind == "binop":
        assert isinstance(node, ast.BinOp)
        node.op = _BINOP_SWAPS[type(node.op)]()
    elif kind == "constant":
        assert isinstance(node, ast.Constant)
        node.value = argument  # type: ignore[assignment]  # one of the constant kinds found above
    elif kind == "call":
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        node.func.id = _CALL_SWAPS[node.func.id]
    elif kind == "delete":
        _replace(parents[id(node)], node, ast.Pass())
    elif kind == "drop_element":
        assert isinstance(node, ast.Set | ast.Tuple | ast.List) and isinstance(argument, int)
        del node.elts[argument]
        if isinstance(node, ast.Set) and not node.elts:
            _replace(parents[id(node)], node, ast.Call(func=ast.Name(id="set", ctx=ast.Load()), args=[], keywords=[]))
    elif kind == "add_element":
        assert isinstance(node, ast.Set) and isinstance(argument, tuple)
        name, member = argument
        node.elts.append(ast.Attribute(value=ast.Name(id=name, ctx=ast.Load()), attr=member, ctx=ast.Load()))
    elif kind == "drop_key":
        assert isinstance(node, ast.Dict) and isinstance(argument, int)
        del node.keys[argument]
        del node.values[argument]
    else:
        raise ValueError(kind)
    return ast.fix_missing_locations(mutated)


def _replace(parent: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for field, value in ast.iter_fields(parent):
        if value is old:
            setattr(parent, field, new)
            return
        if isinstance(value, list):
            for position, item in enumerate(value):
                if item is old:
                    value[position] = new
                    return
    raise LookupError("node not found under its parent")


# --- running ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    mutant: Mutant
    outcome: str  # killed | survived | timeout
    seconds: float


def run_tests(
    module: str, tree: ast.Module, tests: list[str], timeout: float, *, trace_to: Path | None = None
) -> tuple[str, float]:
    # Only the plugins these tests use (schemathesis' and xdist's imports double the start-up of
    # a process that lives for one mutant), and tables made from the models, not migrations.
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    with tempfile.NamedTemporaryFile("wb", suffix=".ast.pickle", delete=False) as mutant_file:
        pickle.dump(tree, mutant_file)
    env.update(PAYOPS_MUTANT_MODULE=module, PAYOPS_MUTANT_SOURCE=mutant_file.name)
    if trace_to is not None:
        env["PAYOPS_MUTATION_TRACE"] = f"{ROOT / (module.replace('.', '/') + '.py')}|{trace_to}"
    command = [sys.executable, "-m", "pytest", "-x", "-q", "--no-header", "-p", "no:cacheprovider"]
    command += ["-p", "pytest_django.plugin", "-p", "_hypothesis_pytestplugin", "-p", "pytest_asyncio.plugin"]
    command += ["--nomigrations", "-p", "tools.mutation_plugin", *tests]
    started = time.monotonic()
    try:
        finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=timeout, check=False)  # noqa: S603
        outcome = "survived" if finished.returncode == 0 else "killed"
        if trace_to is not None and finished.returncode != 0:
            sys.stderr.write(finished.stdout.decode()[-3000:])
    except subprocess.TimeoutExpired:
        outcome = "timeout"
    finally:
        os.unlink(mutant_file.name)
    return outcome, time.monotonic() - started


def function_spans(tree: ast.Module) -> dict[int, tuple[int, int]]:
    """For each node (by ast.walk position): the first and def line of its innermost function."""
    spans: dict[int, tuple[int, int]] = {}

    def visit(node: ast.AST, span: tuple[int, int] | None) -> None:
        if span is not None:
            spans[id(node)] = span
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            # decorators and defaults run where the function is defined; only the body runs in it
            for outside in [*node.decorator_list, node.args]:
                visit(outside, span)
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            for statement in node.body:
                visit(statement, (first, node.lineno))
            return
        for child in ast.iter_child_nodes(node):
            visit(child, span)

    visit(tree, None)
    return {index: spans[id(node)] for index, node in enumerate(ast.walk(tree)) if id(node) in spans}


def tests_reaching(mutant: Mutant, spans: dict[int, tuple[int, int]], calls: dict[str, list[int]]) -> list[str] | None:
    """The tests that call the mutant's function; None when it is module-level code (all tests)."""
    span = spans.get(mutant.node_index)
    if span is None:
        return None
    first, def_line = span
    return [
        test
        for test, lines in calls.items()
        if test.startswith("tests/") and any(first <= n <= def_line for n in lines)
    ]


def dotted(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("module", help="path of the module, e.g. orders/state_machine.py")
    parser.add_argument("tests", nargs="*", help="test paths (default: the module's tests in MODULE_TESTS)")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument("--show", type=int, metavar="N", help="print mutant N as a diff and stop")
    parser.add_argument("--only", type=int, nargs="+", metavar="N", help="run these mutants only")
    parser.add_argument("--jobs", type=int, default=1, help="mutants run at once (default 1: CPU is shared)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--fail-under", type=float, metavar="PERCENT", help="exit 1 when the score is lower")
    args = parser.parse_args(argv)

    module_path = args.module
    original = (ROOT / module_path).read_text(encoding="utf-8")
    tree = ast.parse(original)
    mutants = find_mutants(tree)

    if args.list:
        for mutant in mutants:
            print(f"{mutant.number:4}  line {mutant.line:4}  {mutant.description}")
        print(f"{len(mutants)} mutants")
        return 0
    if args.show:
        mutant = mutants[args.show - 1]
        before = ast.unparse(tree).splitlines()
        after = ast.unparse(apply_mutant(tree, mutant)).splitlines()
        print(f"mutant {mutant.number}, line {mutant.line}: {mutant.description}")
        print("\n".join(difflib.unified_diff(before, after, module_path, "mutant", lineterm="", n=2)))
        return 0

    tests = args.tests or MODULE_TESTS.get(module_path)
    if not tests:
        parser.error(f"name the tests for {module_path} (no default in MODULE_TESTS)")
    tests = [t for t in tests if (ROOT / t.split("::")[0]).exists()]
    selected = [m for m in mutants if not args.only or m.number in args.only]

    with tempfile.TemporaryDirectory() as scratch:
        trace_file = Path(scratch) / "calls.json"
        outcome, baseline = run_tests(dotted(module_path), tree, tests, timeout=3600, trace_to=trace_file)
        if outcome != "survived":
            print("the tests fail without any mutant; fix that first")
            return 2
        calls: dict[str, list[int]] = json.loads(trace_file.read_text(encoding="utf-8"))
    spans = function_spans(tree)
    timeout = max(60.0, baseline * 3)
    print(f"{module_path}: {len(selected)} mutants, tests {' '.join(tests)} (traced run {baseline:.1f} s)", flush=True)

    def run(mutant: Mutant) -> Result:
        reaching = tests_reaching(mutant, spans, calls)
        if reaching == []:
            return Result(mutant, "survived", 0.0)  # no test even calls the function
        outcome, seconds = run_tests(dotted(module_path), apply_mutant(tree, mutant), reaching or tests, timeout)
        return Result(mutant, outcome, seconds)

    results: list[Result] = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for done, result in enumerate(pool.map(run, selected), start=1):
            results.append(result)
            if result.outcome == "survived":
                print(f"  survived {result.mutant.number:4}  line {result.mutant.line:4}  {result.mutant.description}")
            if done % 25 == 0:
                print(f"  ... {done}/{len(selected)}")
            sys.stdout.flush()

    survived = [r for r in results if r.outcome == "survived"]
    score = 100.0 * (len(results) - len(survived)) / len(results) if results else 100.0
    print(f"{module_path}: {len(results)} mutants, {len(results) - len(survived)} killed, "
          f"{len(survived)} survived, score {score:.1f} %")  # fmt: skip
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "module": module_path,
                    "tests": tests,
                    "score": round(score, 1),
                    "results": [
                        {
                            "number": r.mutant.number,
                            "line": r.mutant.line,
                            "mutant": r.mutant.description,
                            "outcome": r.outcome,
                        }
                        for r in results
                    ],
                },
                indent=1,
            ),
            encoding="utf-8",
        )
    return 1 if args.fail_under is not None and score < args.fail_under else 0


if __name__ == "__main__":
    sys.exit(main())
