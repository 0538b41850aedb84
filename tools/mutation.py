"""Mutation testing: plant one small bug at a time in the math and check that the suite fails.

``make mutation`` runs ``python -m tools.mutation``. For every mutant:

1. one expression of a target module is changed (``a + b`` → ``a - b``, ``axis=1`` → ``axis=0``,
   ``W.T`` → ``W``, ``z >= 0`` → ``z > 0``, ``np.sum`` → ``np.mean``, a ``raise`` → ``pass``, …),
   by rewriting only that expression's characters in the source, so that comments, layout and
   every other line stay as they are;
2. the mutated file is written into a private copy of the working tree (the checkout itself is
   never touched, so Ctrl-C or a crash cannot leave a mutant behind); there is one copy per
   worker, and one worker per CPU (``--jobs``), each pinned to its CPU;
3. a fresh Python process runs pytest on that copy, fastest-failing test files first, with
   ``-x -q -p no:cacheprovider``, and ``PYTHONPATH`` pointing at the copy so that the tests'
   subprocesses (``python -m crosscheck``, the ``crosscheck`` script, the side-by-side scripts)
   import the mutant too. A fresh process per mutant means no JAX trace or ``jit`` cache, and no
   imported module, survives from one mutant to the next.

A mutant is *killed* when pytest fails (or runs past the time limit: a mutant that makes a loop
endless), and *survives* when the whole suite passes. Surviving mutants that cannot change what
the code computes are listed, each with its reason, in ``tools/mutation_equivalent.toml``; the
score is killed / (all mutants − those equivalent survivors).

Mutants are named by file, function and the changed expression before → after, never by line
number, so the names survive edits elsewhere in the file. The targets, the operators and the
test order are the constants below.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT = Path(__file__).with_name("mutation_equivalent.toml")
GOAL = 0.95

# What is mutated: a whole module (None), or only the named top-level functions and classes.
TARGETS: dict[str, tuple[str, ...] | None] = {
    "reference/activations.py": None,
    "reference/losses.py": None,
    "reference/backprop.py": None,
    "reference/types.py": None,
    "reference/contract.py": None,
    "reference/optimizers.py": None,
    "torch_impl/backprop.py": ("_send_back", "_RuledDense", "_outputs", "refuse_optimizer",
                               "_torch_optimizer"),
    "jax_impl/backprop.py": ("_send_back", "_ruled_dense", "_outputs", "_zero_sum_row",
                             "_refuse_broken", "refuse_optimizer", "_optax_optimizer", "_moments",
                             "_l2", "_decoupled"),
    "crosscheck/compare/comparison.py": None,
    "crosscheck/compare/magnitudes.py": None,
    "crosscheck/compare/tolerances.py": None,
    "crosscheck/compare/published.py": None,
    "reference/padded.py": None,
    "crosscheck/runs/padded.py": None,
    "crosscheck/runs/apart.py": ("_layout", "_views", "_step"),
    "torch_impl/padded.py": ("_product", "_dense", "_send_back", "_RuledDense", "_outputs",
                             "_first", "_times", "_loss", "_gradients", "_rates", "_descend",
                             "_online", "_in_order"),
    "jax_impl/padded.py": ("_dense", "_send_back", "_ruled_dense_bwd", "_outputs", "_loss",
                           "_one_network", "_chunk", "_chunks", "_filled", "padded_step"),
}

# Test files in the order pytest runs them: cheap, direct checks of the math first, so that most
# mutants are killed within seconds; any test file not named here runs after these.
TEST_ORDER = [
    "test_activations_losses.py", "test_finite_differences.py", "test_rules.py",
    "test_contract.py", "test_comparison.py", "test_sweep_properties.py", "test_figures.py",
    "test_transcriptions.py", "test_optimizers.py",
    "test_examples.py", "test_golden.py", "test_cross_backends.py", "test_trust.py",
    "test_rules_report.py", "test_framework_mapping.py", "test_registry.py", "test_progress.py",
    "test_cli.py", "test_sweep.py", "test_fuzz_loader.py", "test_side_by_side.py",
    "test_docs.py",
]
# Not run against mutants: the tests of this tool, which would "kill" every recorded equivalent
# mutant (a mutated file no longer has the mutant's original expression to name).
NOT_RUN = {"test_mutation.py"}

# --- the operators -------------------------------------------------------------------------------
BINARY = {ast.Add: (ast.Sub,), ast.Sub: (ast.Add,), ast.Mult: (ast.Div,), ast.Div: (ast.Mult,),
          ast.FloorDiv: (ast.Div,), ast.Mod: (ast.FloorDiv,), ast.Pow: (ast.Mult,),
          ast.MatMult: (ast.Mult,), ast.BitOr: (ast.BitAnd,), ast.BitAnd: (ast.BitOr,),
          ast.LShift: (ast.RShift,), ast.RShift: (ast.LShift,)}
COMPARE = {ast.Eq: (ast.NotEq,), ast.NotEq: (ast.Eq,), ast.Lt: (ast.LtE, ast.GtE),
           ast.LtE: (ast.Lt, ast.Gt), ast.Gt: (ast.GtE, ast.LtE), ast.GtE: (ast.Gt, ast.Lt),
           ast.Is: (ast.IsNot,), ast.IsNot: (ast.Is,), ast.In: (ast.NotIn,),
           ast.NotIn: (ast.In,)}
# Library functions and methods swapped for their counterpart (np.sum → np.mean, …).
SWAPPED_CALLS = {"maximum": "minimum", "minimum": "maximum", "max": "min", "min": "max",
                 "sum": "mean", "mean": "sum", "any": "all", "all": "any", "argmax": "argmin",
                 "argmin": "argmax", "ones_like": "zeros_like", "zeros_like": "ones_like",
                 "flatnonzero": "nonzero"}
# Calls replaced by their argument (abs(x) → x).
DROPPED_CALLS = {"abs"}
# Attributes dropped (W.T → W).
DROPPED_ATTRIBUTES = {"T", "mT"}


@dataclass(frozen=True)
class Mutant:
    path: str          # relative to the project root
    function: str      # qualified name of the enclosing function or class, or <module>
    before: str        # the expression (or statement) as written
    after: str         # the same with the mutation
    start: int         # byte offsets of the replaced node in the file
    end: int
    replacement: str
    key: str = ""      # "path::function: before → after", with " #n" when it repeats

    def apply(self, source: bytes) -> bytes:
        return source[:self.start] + self.replacement.encode() + source[self.end:]


def _alternatives(node):
    """The replacement source of every mutation of ``node`` itself."""
    match node:
        case ast.BinOp():
            for op in BINARY.get(type(node.op), ()):
                yield ast.unparse(ast.BinOp(node.left, op(), node.right))
        case ast.Compare() if len(node.ops) == 1:
            for op in COMPARE.get(type(node.ops[0]), ()):
                yield ast.unparse(ast.Compare(node.left, [op()], node.comparators))
        case ast.BoolOp():
            op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            yield ast.unparse(ast.BoolOp(op, node.values))
        case ast.UnaryOp():
            yield ast.unparse(node.operand)
        case ast.Constant(value=bool(value)):
            yield repr(not value)
        case ast.Constant(value=int(value)):
            yield repr(value + 1)
            yield repr(value - 1)
        case ast.Constant(value=float(value)):
            yield repr(value + 1)
        case ast.Attribute(attr=attr) if attr in DROPPED_ATTRIBUTES:
            yield ast.unparse(node.value)
        case ast.Call(func=ast.Attribute(attr=attr)) if attr in SWAPPED_CALLS:
            func = ast.Attribute(node.func.value, SWAPPED_CALLS[attr], ast.Load())
            yield ast.unparse(ast.Call(func, node.args, node.keywords))
        case ast.Call(func=ast.Name(id=name)) if name in SWAPPED_CALLS:
            func = ast.Name(SWAPPED_CALLS[name], ast.Load())
            yield ast.unparse(ast.Call(func, node.args, node.keywords))
        case ast.Call(func=ast.Attribute(attr=name) | ast.Name(id=name), args=[arg],
                      keywords=[]) if name in DROPPED_CALLS:
            yield ast.unparse(arg)
        case ast.Raise():
            yield "pass"


def _skipped(node) -> bool:
    """Parts that are not computation: imports, docstrings and messages (f-strings)."""
    if isinstance(node, ast.Import | ast.ImportFrom | ast.JoinedStr):
        return True
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str))


def _children(node):
    """The child nodes that are mutated: not annotations, not decorators."""
    for name, value in ast.iter_fields(node):
        if name in ("annotation", "returns", "decorator_list", "type_comment"):
            continue
        for child in value if isinstance(value, list) else [value]:
            if isinstance(child, ast.AST):
                yield child


class _Source:
    """A file's bytes with line starts, so that AST positions (UTF-8 columns) become offsets."""

    def __init__(self, data: bytes):
        self.data = data
        self.starts = [0]
        for line in data.splitlines(keepends=True):
            self.starts.append(self.starts[-1] + len(line))

    def span(self, node) -> tuple[int, int]:
        return (self.starts[node.lineno - 1] + node.col_offset,
                self.starts[node.end_lineno - 1] + node.end_col_offset)

    def text(self, start: int, end: int) -> str:
        return self.data[start:end].decode()


def _shown(node, parents, source):
    """The node whose text names a mutant: a short expression is shown with its context (up to
    the simple statement that holds it), so that ``0`` reads as ``axis=0``."""
    shown = node
    for parent in reversed(parents):
        short = len(_flat(source.text(*source.span(shown)))) < 8
        simple = isinstance(parent, ast.Assign | ast.AnnAssign | ast.AugAssign | ast.Return)
        if not (short and (isinstance(parent, ast.expr | ast.keyword) or simple)):
            break
        shown = parent
    return shown


def _defaulted(arguments, default) -> str:
    """The name of the argument whose default is ``default``."""
    positional = [*arguments.posonlyargs, *arguments.args]
    pairs = [*zip(positional[len(positional) - len(arguments.defaults):], arguments.defaults),
             *zip(arguments.kwonlyargs, arguments.kw_defaults)]
    return next(arg.arg for arg, value in pairs if value is default)


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).replace("( ", "(").replace(" )", ")").strip()


def _file_mutants(root: Path, path: str, names) -> list[Mutant]:
    """The mutants of one file: of every function (``names`` None) or of the named ones."""
    source = _Source((root / path).read_bytes())
    seen = {ast.dump(ast.parse(source.data))}      # no mutant that changes nothing, no repeats
    found = []

    def visit(node, scope, parents):
        if _skipped(node):
            return
        if (names is None or (scope and scope[0] in names)) and hasattr(node, "lineno"):
            start, end = source.span(node)
            for replacement in _alternatives(node):
                wrapped = replacement if isinstance(node, ast.stmt) else f"({replacement})"
                try:
                    tree = ast.dump(ast.parse(source.data[:start] + wrapped.encode()
                                              + source.data[end:]))
                except SyntaxError:
                    continue
                if tree in seen:
                    continue
                seen.add(tree)
                s0, s1 = source.span(_shown(node, parents, source))
                before = source.text(s0, s1)
                after = source.text(s0, start) + replacement + source.text(end, s1)
                if isinstance(parents[-1], ast.arguments):        # a default: name it
                    arg = _defaulted(parents[-1], node)
                    before, after = f"{arg}={before}", f"{arg}={after}"
                found.append(Mutant(path, ".".join(scope) or "<module>", _flat(before),
                                    _flat(after), start, end, wrapped))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            scope = (*scope, node.name)
        for child in _children(node):
            visit(child, scope, [*parents, node])

    visit(ast.parse(source.data, path), (), [])
    return found


def mutants(root: Path = ROOT, targets=None) -> list[Mutant]:
    """Every mutant of the target code, in file order, each with its key."""
    found = [m for path, names in (TARGETS if targets is None else targets).items()
             for m in _file_mutants(root, path, names)]
    # Keys: file, function and the change; repeats within one function are numbered.
    counts: dict[str, int] = {}
    keyed = []
    for m in found:
        key = f"{m.path}::{m.function}: {m.before} → {m.after}"
        counts[key] = counts.get(key, 0) + 1
        keyed.append(Mutant(**{**asdict(m), "key": key if counts[key] == 1
                               else f"{key} #{counts[key]}"}))
    return keyed


def equivalents(path: Path = EQUIVALENT) -> dict[str, str]:
    """key → reason for every mutant recorded as equivalent."""
    data = tomllib.loads(path.read_text()) if path.exists() else {}
    return {entry["key"]: entry["reason"] for entry in data.get("mutant", [])}


# --- running ------------------------------------------------------------------------------------
def _copy_tree(dest: Path) -> None:
    """The working tree as git sees it (tracked and untracked, not ignored) into ``dest``."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout.decode()
    for name in filter(None, listed.split("\0")):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def _test_files(copy: Path) -> list[str]:
    present = sorted(p.name for p in (copy / "tests").glob("test_*.py") if p.name not in NOT_RUN)
    ordered = [name for name in TEST_ORDER if name in present]
    return [f"tests/{name}" for name in ordered + [n for n in present if n not in ordered]]


def _environment(copy: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(copy), env.get("PYTHONPATH")]))
    env["PYTHONDONTWRITEBYTECODE"] = "1"      # never a stale .pyc of a same-sized mutant
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[name] = "1"
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
                        " intra_op_parallelism_threads=1").strip()
    return env


def _pytest(copy: Path, tests: list[str], env, timeout: float, started=lambda process: None):
    """(outcome, seconds, first failing test) of one pytest run in ``copy``; ``started`` is
    given the process as soon as it runs, so that an interrupted run can kill it."""
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
               f"--basetemp={copy.parent / 'pytest'}", *tests]
    began = time.monotonic()
    with subprocess.Popen(command, cwd=copy, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as process:
        started(process)
        try:
            stdout, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            return "timeout", time.monotonic() - began, ""
    seconds = time.monotonic() - began
    failed = re.search(r"^(?:FAILED|ERROR) (\S+)", stdout, re.MULTILINE)
    outcome = {0: "survived", 5: "error"}.get(process.returncode, "killed")
    last = (stdout.strip().splitlines() or [f"pytest exit code {process.returncode}"])[-1]
    return outcome, seconds, failed.group(1) if failed else last


def _check_copy_is_imported(copy: Path, env) -> None:
    """The tests and their subprocesses must import the copy, not the installed checkout."""
    code = ("import reference, torch_impl, jax_impl, crosscheck; "
            "print('\\n'.join(m.__file__ for m in (reference, torch_impl, jax_impl, crosscheck)))")
    done = subprocess.run([sys.executable, "-c", code], cwd=tempfile.gettempdir(), env=env,
                          capture_output=True, text=True, check=True)
    for line in done.stdout.split():
        if not Path(line).resolve().is_relative_to(copy.resolve()):
            raise SystemExit(f"mutation: {line} is imported instead of the copy in {copy}")


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"


def _cpus(jobs: int | None) -> list[int | None]:
    """One CPU per worker: the last ``jobs`` CPUs this process may use (all of them by default);
    [None] * jobs where CPU affinity is not available."""
    if not hasattr(os, "sched_getaffinity"):
        return [None] * (jobs or 1)
    available = sorted(os.sched_getaffinity(0))
    jobs = len(available) if jobs is None else jobs
    if not 1 <= jobs <= len(available):
        raise SystemExit(f"mutation: --jobs must be 1 to {len(available)} (the CPUs available)")
    return available[-jobs:]


class _Worker:
    """A private copy of the working tree and one CPU: runs pytest there, one mutant at a time.
    The CPU is set on the worker's own thread (Linux affinity is per thread), and the pytest
    processes it starts inherit it."""

    def __init__(self, root: Path, cpu: int | None):
        self.copy, self.cpu = root / "tree", cpu
        self.copy.mkdir()
        _copy_tree(self.copy)
        self.env = _environment(self.copy)
        _check_copy_is_imported(self.copy, self.env)
        self.originals: dict[str, bytes] = {}
        self.process, self.stopped = None, False

    def _started(self, process) -> None:
        self.process = process
        if self.stopped:
            process.kill()

    def stop(self) -> None:
        """Kill the running pytest, and start no other (called from the main thread)."""
        self.stopped = True
        if self.process is not None and self.process.poll() is None:
            self.process.kill()

    def _pin(self) -> None:
        if self.cpu is not None:
            os.sched_setaffinity(0, {self.cpu})

    def baseline(self, tests):
        self._pin()
        return _pytest(self.copy, tests, self.env, 3600, self._started)

    def run(self, mutant: Mutant, tests, timeout):
        self._pin()
        target = self.copy / mutant.path
        self.originals.setdefault(mutant.path, target.read_bytes())
        target.write_bytes(mutant.apply(self.originals[mutant.path]))
        try:
            return _pytest(self.copy, tests, self.env, timeout, self._started)
        finally:
            target.write_bytes(self.originals[mutant.path])


def run(selected: list[Mutant], *, jobs=None, report: Path | None = None) -> int:
    """Run every selected mutant; print each outcome and the score; 0 if the goal is met."""
    cpus = _cpus(jobs)
    # A plain `kill` stops the run as Ctrl-C does: the running pytest is killed, the copies removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    known = equivalents()
    began = time.monotonic()
    results: list[dict] = []
    with contextlib.ExitStack() as stack:
        workers = [_Worker(Path(stack.enter_context(tempfile.TemporaryDirectory(
            prefix="crosscheck-mutation-"))), cpu) for cpu in cpus]
        tests = _test_files(workers[0].copy)
        on = "" if cpus[0] is None else f" on CPU {', '.join(map(str, cpus))}"
        print(f"mutation: {len(selected)} mutants of {len(TARGETS)} files; {len(workers)} "
              f"worker{'s' * (len(workers) > 1)}{on}, each on its own copy of the tree",
              flush=True)
        pool = stack.enter_context(ThreadPoolExecutor(len(workers)))

        def wait(futures):
            """Their results; on Ctrl-C or kill, the workers' pytest runs are killed first, so
            that the pool and the copies can be cleaned up at once."""
            try:
                return [future.result() for future in futures]
            except BaseException:
                for worker in workers:
                    worker.stop()
                raise

        # The unmutated suite on every worker at once, under the load the mutants will run with.
        baselines = wait([pool.submit(worker.baseline, tests) for worker in workers])
        for outcome, _, detail in baselines:
            if outcome != "survived":
                raise SystemExit(f"mutation: the unmutated suite does not pass ({outcome}: "
                                 f"{detail}); run .venv/bin/pytest -x to see why")
        baseline = max(seconds for _, seconds, _ in baselines)
        timeout = 2 * baseline + 60
        print(f"mutation: the unmutated suite passes in {baseline:.0f} s; a mutant that runs "
              f"past {timeout:.0f} s counts as killed", flush=True)
        todo, lock = iter(enumerate(selected, 1)), threading.Lock()

        def work(worker: _Worker) -> None:
            while True:
                with lock:
                    n, mutant = next(todo, (None, None))
                if mutant is None or worker.stopped:
                    return
                outcome, seconds, detail = worker.run(mutant, tests, timeout)
                if outcome == "survived" and mutant.key in known:
                    outcome = "equivalent"
                by = f"  ({detail})" if outcome == "killed" else ""
                with lock:
                    results.append({**asdict(mutant), "outcome": outcome,
                                    "seconds": round(seconds, 1),
                                    "killed_by": detail if outcome in ("killed", "error") else "",
                                    "n": n})
                    print(f"[{len(results):>4}/{len(selected)}] {outcome:<10} {seconds:5.0f} s  "
                          f"{mutant.key}{by}", flush=True)

        wait([pool.submit(work, worker) for worker in workers])
    elapsed = time.monotonic() - began
    results.sort(key=lambda r: r.pop("n"))
    return _summary(results, known, elapsed, report, len(workers))


def _summary(results, known, elapsed, report, jobs) -> int:
    count = {k: sum(r["outcome"] == k for r in results)
             for k in ("killed", "timeout", "survived", "equivalent", "error")}
    killed = count["killed"] + count["timeout"]
    relevant = len(results) - count["equivalent"]
    score = killed / relevant if relevant else 1.0
    print()
    print(f"mutants: {len(results)}; killed {killed} (of which {count['timeout']} by time-out); "
          f"equivalent {count['equivalent']}; survived {count['survived']}; "
          f"errors {count['error']}")
    print(f"score: {killed} / {relevant} non-equivalent mutants killed = {100 * score:.1f}% "
          f"(goal {100 * GOAL:.0f}%)")
    print(f"run time: {_minutes(elapsed)} with {jobs} worker{'s' * (jobs > 1)}")
    ran = {r["key"] for r in results}
    killed_but_listed = [r["key"] for r in results
                         if r["key"] in known and r["outcome"] in ("killed", "timeout")]
    for key in killed_but_listed:
        print(f"listed as equivalent but killed (remove it from {EQUIVALENT.name}): {key}")
    for r in results:
        if r["outcome"] in ("survived", "error"):
            print(f"{r['outcome'].upper()}, not explained: {r['key']}")
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps({"results": results, "seconds": round(elapsed),
                                      "score": score, "stale_equivalents": sorted(
                                          set(known) - ran)}, indent=1, ensure_ascii=False))
        print(f"report: {report}")
    return 0 if score >= GOAL and not count["error"] else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.mutation", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--only", action="append", default=[], metavar="TEXT",
                        help="run only mutants whose name contains TEXT (repeatable)")
    parser.add_argument("--jobs", type=int, metavar="N",
                        help="workers, each on its own CPU (default: every CPU available)")
    parser.add_argument("--report", type=Path, default=ROOT / "out" / "mutation.json",
                        help="where to write every mutant's outcome (default: out/mutation.json)")
    args = parser.parse_args(argv)
    selected = [m for m in mutants() if not args.only or any(t in m.key for t in args.only)]
    if not selected:
        parser.error("no mutant matches --only")
    if args.list:
        known = equivalents()
        for m in selected:
            print(f"{m.key}{'   [equivalent]' if m.key in known else ''}")
        stale = set(known) - {m.key for m in mutants()}
        for key in sorted(stale):
            print(f"stale entry in {EQUIVALENT.name}, no such mutant: {key}")
        print(f"{len(selected)} mutants")
        return 0
    return run(selected, jobs=args.jobs, report=args.report)


if __name__ == "__main__":
    sys.exit(main())
