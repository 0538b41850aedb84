"""The crosscheck command: examples side by side on the NumPy, PyTorch and JAX backends.

Exit codes: 0 all backends agree and every published figure holds; 1 a disagreement, a figure
that does not hold, a backend that failed, or a training run whose loss became NaN or infinite;
2 bad input or usage, a rule that cannot be applied to the weights it meets among them (one line
on stderr, never a traceback); 141 when the reader of the output went away (``| head``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from crosscheck import backends as registry
from crosscheck import examples
from reference.types import DTYPES, MODES, RULES, RuleUndefined

RULE_HELP = (
    "exact: the chain rule, what autograd computes; raw_error: the errors, not the deltas, go "
    "back (seed 000's H^T·E); proportional: each error split over a neuron's incoming weights "
    "in proportion to them (seeds 000/001); raw_error_new_weights: raw_error through weights "
    "already updated")
BROKEN_PIPE = 141          # 128 + SIGPIPE, what a shell reports for a reader that went away


class UsageError(Exception):
    """Bad input or usage: reported as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


# --- option values -------------------------------------------------------------------------------
def _number(text, kind=float, low=None, high=None, what="a number"):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if (low is not None and not value >= low) or (high is not None and not value <= high):
        bounds = f"from {low} to {high}" if high is not None else f">= {low}"
        raise argparse.ArgumentTypeError(f"expected {what} {bounds}, got {text}")
    return value


def _positive_int(text):
    return _number(text, int, 1, examples.MAX_STEPS, "a whole number")


def _seed(text):
    return _number(text, int, 0, what="a whole number")


def _shard(text):
    """K/N with 1 <= K <= N."""
    k, slash, n = text.partition("/")
    if not (slash and k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
        raise argparse.ArgumentTypeError(f"expected K/N with 1 <= K <= N, got {text!r}")
    return int(k), int(n)


def _positive_float(text):
    value = _number(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text}")
    return value


def _nonnegative_float(text):
    return _number(text, float, 0.0, float("inf"), "a number")


def _writable_file(text):
    """An output file whose folder exists and can be written, checked before any computing."""
    folder = os.path.dirname(os.path.abspath(text))
    if os.path.isdir(text) or not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot write {text!r}: not a file in a writable "
                                         "folder")
    return text


def _writable_folder(text):
    """An output folder that exists and can be written, or can be made."""
    parent = os.path.dirname(os.path.abspath(text))
    if os.path.exists(text) and not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"cannot write into {text!r}: it is not a folder")
    target = text if os.path.isdir(text) else parent
    if not os.path.isdir(target) or not os.access(target, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot write into {text!r}")
    return text


def _rule_list(text):
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in RULES]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"expected rules from {', '.join(RULES)}, got {text!r}")
    return names


# --- the parser ----------------------------------------------------------------------------------
def _common(parser, rule=True, json_help="print one JSON object"):
    parser.add_argument("--backends", metavar="LIST",
                        help="comma-separated backends, e.g. numpy,torch,jax, a file "
                             "(path/to/backend.py) or module:object (default: every built-in "
                             "backend whose framework is installed); the first is the "
                             "reference the others are compared with")
    if rule:
        parser.add_argument("--rule", choices=RULES, help=f"override the example's rule: "
                                                          f"{RULE_HELP}")
    parser.add_argument("--dtype", choices=DTYPES, default="float64",
                        help="precision of every backend (default float64)")
    parser.add_argument("--steps", type=_positive_int, help="override the example's steps")
    parser.add_argument("--mode", choices=MODES, help="override the example's mode")
    parser.add_argument("--lr", type=_positive_float, help="override the learning rate")
    parser.add_argument("--json", action="store_true", help=json_help)
    _require_all(parser)


def _require_all(parser):
    parser.add_argument("--require-all", action="store_true",
                        help="exit 2 when a built-in backend cannot be loaded, rather than "
                             f"skip it with a line on stderr (also {REQUIRE_ALL}=1)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="crosscheck", description=__doc__.split("\n")[0],
                     epilog="examples:\n  crosscheck list\n  crosscheck run seed002-linear\n"
                            "  crosscheck check my-network.toml\n\nSee docs/cli.md.",
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=_version_line(),
                        help="this tool's version and commit (crosscheck env: every backend's)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def command(name, help, examples_, description=None):
        return sub.add_parser(name, help=help, description=description or help,
                              epilog="examples:\n" + "\n".join(f"  {e}" for e in examples_),
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    command("list", "the shipped examples, one line each", ["crosscheck list"])
    env = command("env", "where results are computed: Python, platform, this tool, its commit, "
                  "every backend's version, the tolerance policy", ["crosscheck env",
                                                                    "crosscheck env --json"])
    env.add_argument("--json", action="store_true", help="print one JSON object")
    show = command("show", "the network, data, settings and published figures of an example",
                   ["crosscheck show seed002-linear", "crosscheck show my-network.toml",
                    "crosscheck show seed002-linear --svg seed002.svg"])
    show.add_argument("name", help="a shipped example or an example file (.toml)")
    show.add_argument("--svg", metavar="FILE.svg", type=_writable_file,
                      help="also draw the network: neurons with the example's names, each "
                           "weight with its value (before → after, for a one-step example)")
    _add_run_and_check(command)
    _add_train_and_rules(command)
    _add_optimizers(command)
    _add_sweep(command)
    _add_verify(command)
    diff = command("diff", "two result files (--json of run or check, or golden files) "
                   "compared number by number", ["crosscheck diff before.json after.json",
                                                 "crosscheck diff a.json b.json --tolerance 0",
                                                 "crosscheck diff a.json b.json --json"])
    diff.add_argument("a", metavar="A.json")
    diff.add_argument("b", metavar="B.json")
    diff.add_argument("--tolerance", type=_nonnegative_float, metavar="T",
                      help="judge each array relative to its largest value at T (0: every "
                           "number must be the same); default: the tolerance policy of run")
    diff.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _version_line() -> str:
    from crosscheck.report import environment

    commit = environment.commit()
    return f"crosscheck {environment.tool_version()}" + (f" (commit {commit})" if commit else "")


def _add_run_and_check(command):
    run = command("run", "run shipped examples on every backend and compare them",
                  ["crosscheck run seed002-linear", "crosscheck run --all --backends numpy --json",
                   "crosscheck run xor --rule raw_error --steps 100 --full",
                   "crosscheck run --all --report out"])
    run.add_argument("name", nargs="?", help="a shipped example (see crosscheck list) or an "
                     "example file (.toml)")
    run.add_argument("--all", action="store_true", help="run every shipped example")
    run.add_argument("--report", metavar="DIR", type=_writable_folder,
                     help="also write DIR/summary.md and one loss plot per example")
    check = command("check", "run your own example file on every backend and compare them",
                    ["crosscheck check my-network.toml", "crosscheck check my-network.toml --json"])
    check.add_argument("file", help="an example file in the format of docs/example-format.md, "
                       "or a shipped example's name")
    for parser in (run, check):
        parser.add_argument("--full", action="store_true",
                            help="show every reported number, not only the published ones")
        _common(parser)


def _add_optimizers(command):
    from reference.optimizers import NAMES

    optimizers = command(
        "optimizers", "one optimizer under torch's, optax's and Keras's convention, side by "
        "side: where they differ, why, and which settings make them agree",
        ["crosscheck optimizers xor-rmsprop", "crosscheck optimizers xor --optimizer adam "
         "--lr 0.05 --steps 500", "crosscheck optimizers seed000-adam --plot adam.png --json"])
    optimizers.add_argument("name", help="a shipped example or an example file (.toml)")
    optimizers.add_argument("--optimizer", choices=NAMES,
                            help="the optimizer, with torch.optim's defaults (default: the "
                                 "example's [optimizer], with its settings)")
    optimizers.add_argument("--steps", type=_positive_int, help="override the example's steps")
    optimizers.add_argument("--mode", choices=MODES, help="override the example's mode")
    optimizers.add_argument("--lr", type=_positive_float, help="override the learning rate")
    optimizers.add_argument("--plot", metavar="FILE.png", type=_writable_file,
                            help="draw the loss per step of each convention and the largest "
                                 "difference between two of them per step")
    optimizers.add_argument("--json", action="store_true", help="print one JSON object")


def _add_train_and_rules(command):
    train = command("train", "train an example on every backend: loss per step, side by side",
                    ["crosscheck train xor", "crosscheck train xor --steps 2000 --plot xor.png",
                     "crosscheck train my-network.toml --rule raw_error --json"])
    train.add_argument("name", help="a shipped example or an example file (.toml)")
    train.add_argument("--plot", metavar="FILE.png", type=_writable_file,
                       help="draw the loss per step and the difference between backends")
    _common(train, json_help="print the run's JSON object (as crosscheck run --json)")
    rules = command(
        "rules", "how far the tutorials' rules stray from the gradient",
        ["crosscheck rules xor", "crosscheck rules seed000 --plot rules.png",
         "crosscheck rules xor --rules exact,raw_error --steps 2000 --json"],
        description="Per layer, the cosine between each rule's first update and the true "
                    "gradient and their relative difference; then a training run under each "
                    f"rule: loss per step, steps to reach --threshold, truth table reached. "
                    f"The rules: {RULE_HELP}.")
    rules.add_argument("name", help="a shipped example or an example file (.toml)")
    rules.add_argument("--rules", metavar="LIST", type=_rule_list, default=list(RULES),
                       help=f"comma-separated rules (default: {','.join(RULES)})")
    rules.add_argument("--threshold", type=_positive_float, default=0.01,
                       help="the loss to reach in training (default 0.01)")
    rules.add_argument("--plot", metavar="FILE.png", type=_writable_file,
                       help="draw the loss curves to a PNG file")
    _common(rules, rule=False)


def _add_sweep(command):
    sweep = command(
        "sweep", "random networks cross-checked on every backend, thousands a second",
        ["crosscheck sweep", "crosscheck sweep --count 20000 --seed 7 --json",
         "crosscheck sweep --rules raw_error,proportional --dtype float32",
         "crosscheck check sweep-worst.toml"],
        description="Random networks (depth 1-4, widths 1-16, every activation, loss, rule and "
                    "mode, biases present, absent or frozen, 1-8 samples), each compared element "
                    "by element with the NumPy reference on every backend: loss, gradients, "
                    "errors, one step and the loss after it. The network with the largest "
                    "difference is written as an example file that crosscheck check reruns.")
    sweep.add_argument("--count", type=_positive_int, default=20000,
                       help="how many random networks (default 20000)")
    sweep.add_argument("--seed", type=_seed, default=0, help="random seed, a whole number >= 0 "
                       "(default 0)")
    sweep.add_argument("--rules", metavar="LIST", type=_rule_list, default=list(RULES),
                       help=f"comma-separated rules to draw from (default: {','.join(RULES)})")
    sweep.add_argument("--per-architecture", metavar="N", type=_positive_int, default=None,
                       help="networks per drawn architecture (default 20: a new architecture "
                            "every 20 networks; groups under 512 are computed together as "
                            "padded stacks, larger ones one architecture a call)")
    sweep.add_argument("--worst", metavar="FILE.toml", type=_writable_file,
                       default="sweep-worst.toml",
                       help="where to write the network with the largest difference "
                            "(default sweep-worst.toml)")
    sweep.add_argument("--backends", metavar="LIST",
                       help="comma-separated backends, numpy among them (default: every "
                            "built-in backend whose framework is installed)")
    sweep.add_argument("--dtype", choices=DTYPES, default="float64",
                       help="precision of every backend (default float64)")
    sweep.add_argument("--optimizers", action="store_true",
                       help="every architecture also draws an optimizer (SGD with momentum, "
                            "Adam, AdamW, RMSprop), a convention and its settings, among those "
                            "every backend computes; the step is its first")
    sweep.add_argument("--shard", metavar="K/N", type=_shard, default=(1, 1),
                       help="only shard K of N: the architectures whose index i has i mod N = "
                            "K - 1; the N shards together are the whole sweep")
    sweep.add_argument("--jobs", metavar="J", type=_positive_int, default=1,
                       help="run the sweep (or its shard) as J local processes and merge their "
                            "reports (default 1)")
    sweep.add_argument("--json", action="store_true", help="print one JSON object")
    _require_all(sweep)


def _add_verify(command):
    verify = command(
        "verify", "check your own gradients or training step against the reference",
        ["crosscheck verify my_backprop.py --example seed001-exact",
         "crosscheck verify my_backprop.py:step --example xor --random 50 --json",
         "crosscheck verify homework.solution:gradients --example my-network.toml",
         "crosscheck verify seed002.py --example seed002-linear --layout inputs-outputs"],
        description="Calls FUNCTION(weights, biases, X, T) -> (weight gradients, bias "
                    "gradients), or, when it takes lr, FUNCTION(weights, biases, X, T, lr) -> "
                    "(weights, biases) after one step in the example's mode, with NumPy float64 "
                    "arrays: weights (outputs, inputs) per layer, biases (outputs,) or None, X "
                    "(samples, inputs), T (samples, outputs). On the example's own numbers and "
                    "on random networks of its architecture, every number is compared with the "
                    "reference; where they differ, the known mistakes are tried and the ones "
                    "that give your numbers are named. See docs/verify.md.")
    verify.add_argument("function", metavar="FILE.py[:NAME] | module:NAME",
                        help="your function (NAME defaults to gradients)")
    verify.add_argument("--example", required=True, metavar="NAME|FILE",
                        help="what the function is written for: a shipped example or a file")
    verify.add_argument("--random", type=_seed, default=20, metavar="N",
                        help="random probes of the example's architecture (default 20)")
    verify.add_argument("--seed", type=_seed, default=0, help="seed of the probes (default 0)")
    verify.add_argument("--step", action="store_true",
                        help="the function is a training step (found from an lr parameter "
                             "otherwise)")
    verify.add_argument("--layout", choices=("outputs-inputs", "inputs-outputs"),
                        default="outputs-inputs",
                        help="weights as (outputs, inputs), the default, or (inputs, outputs) "
                             "as seed 002 writes x·W")
    verify.add_argument("--json", action="store_true", help="print one JSON object")


# --- the commands --------------------------------------------------------------------------------
REQUIRE_ALL = "CROSSCHECK_REQUIRE_ALL"      # =1: as --require-all, for CI


def _backends(args) -> dict:
    """The backends of --backends; by default every built-in one that loads, and a line on
    stderr for each that does not (kept in ``args.skipped``; --require-all: exit 2)."""
    option, args.skipped = args.backends, {}
    if option is None:
        loaded, args.skipped = registry.defaults()
        strict = getattr(args, "require_all", False) or os.environ.get(REQUIRE_ALL) == "1"
        for name, why in args.skipped.items():
            if strict:
                raise UsageError(f"crosscheck: --require-all: backend {name!r} {why}")
            print(f"crosscheck: backend {name!r} skipped: {why}", file=sys.stderr)
        return loaded
    names = [name.strip() for name in option.split(",") if name.strip()]
    if not names:
        raise UsageError("crosscheck: --backends: expected a comma-separated list of names")
    loaded = {}
    for name in names:
        backend = registry.load(name)
        shown = registry.display_name(name, backend)
        shown = name if shown in loaded else shown      # two backends of one NAME: as given
        if shown in loaded:
            raise UsageError(f"crosscheck: --backends: {name} is named twice")
        loaded[shown] = backend
    return loaded


def _example_path(name: str):
    """The file of NAME|FILE: a path when it looks like one (.toml, or a folder in it), else a
    shipped example's file, else a file of that name; else UnknownExample, with the closest."""
    if name.endswith(".toml") or os.sep in name:
        return name
    try:
        return examples.find(name)
    except examples.UnknownExample:
        if os.path.isfile(name):
            return name
        raise


def _progress(args, label, unit="steps"):
    from crosscheck.report.progress import Progress

    return Progress(label, enabled=False if args.json else None, unit=unit)


def _run_one(path, args, modules):
    from crosscheck.runs import example as runs

    example = examples.load(path)
    try:
        report = runs.run(example, modules, _progress(args, example.name), rule=args.rule,
                          dtype=args.dtype, steps=args.steps, mode=args.mode, lr=args.lr)
        report.unsupported.update(args.skipped)
        return report
    except RuleUndefined as exc:
        raise UsageError(f"{path}: rule: {exc}") from None
    except runs.Diverged as exc:
        exc.args = (f"{example.name}: {exc}",)
        raise


def _list(args) -> int:
    for path in examples.shipped():
        example = examples.load(path)
        print(f"{example.name:<22} {example.title}")
    return 0


def _env(args) -> int:
    from crosscheck.report import environment

    env = environment.installed()
    print(json.dumps(env, indent=1) if args.json else environment.render(env))
    return 0


def _show(args) -> int:
    from crosscheck.report import tables

    example = examples.load(_example_path(args.name))
    print(tables.describe(example))
    if args.svg:
        from crosscheck import atomic
        from crosscheck.report import picture

        atomic.write_text(args.svg, picture.svg(example, picture.after_step(example)))
        print(f"picture: {args.svg}")
    return 0


def _run_or_check(args) -> int:
    from crosscheck.report import as_json, tables

    if args.command == "run":
        if args.all == bool(args.name):
            raise UsageError("crosscheck run: give one example NAME or --all")
        paths = examples.shipped() if args.all else [_example_path(args.name)]
    else:
        paths = [_example_path(args.file)]
    modules = _backends(args)
    reports = [_run_one(path, args, modules) for path in paths]
    if args.json:
        if args.command == "run" and args.all:
            out = {"examples": [as_json.run(r) for r in reports],
                   "ok": all(r.ok for r in reports)}
        else:
            out = as_json.run(reports[0])
        print(json.dumps(out, indent=1))
    else:
        print("\n\n".join(tables.render(report, full=args.full) for report in reports))
    if getattr(args, "report", None):
        from crosscheck.report import summary

        where = summary.write(args.report, reports)
        print(f"\nreport: {where} (and one loss plot per example beside it)",
              file=sys.stderr if args.json else sys.stdout)
    return 0 if all(report.ok for report in reports) else 1


def _plotted(args, report, draw, doc, text, indent=None) -> int:
    """Draw ``--plot``, print the JSON or the text, and the exit code of the report."""
    if args.plot:
        draw(report, args.plot)
    if args.json:
        print(json.dumps(doc(report), indent=indent))
    else:
        print(text(report))
        if args.plot:
            print(f"plot: {args.plot}")
    return 0 if report.ok else 1


def _train(args) -> int:
    from crosscheck.report import as_json, plots, tables

    report = _run_one(_example_path(args.name), args, _backends(args))
    return _plotted(args, report, plots.training, as_json.run, tables.render_training, 1)


def _rules(args) -> int:
    from crosscheck.report import as_json, plots
    from crosscheck.report import rules as text
    from crosscheck.runs import rules

    example = examples.load(_example_path(args.name))
    report = rules.measure(example, _backends(args), args.rules, args.threshold,
                           args.dtype, args.steps, args.mode, args.lr,
                           _progress(args, example.name, "rules"))
    return _plotted(args, report, plots.rules, as_json.rules, text.render)


def _optimizers(args) -> int:
    from crosscheck.report import as_json, plots
    from crosscheck.report import optimizers as text
    from crosscheck.runs import optimizers
    from reference.optimizers import Optimizer

    example = examples.load(_example_path(args.name))
    spec = example.optimizer
    if args.optimizer and (spec is None or spec.name != args.optimizer):
        spec = Optimizer(args.optimizer)
    if spec is None:
        raise UsageError(f"crosscheck optimizers: {example.name} has no [optimizer]: name one "
                         "with --optimizer")
    report = optimizers.compare(example, spec, args.steps or example.steps,
                                args.mode or example.mode, args.lr or example.learning_rate)
    return _plotted(args, report, plots.optimizers, as_json.optimizers, text.render)


def _sweep(args) -> int:
    from crosscheck.report import as_json
    from crosscheck.report import sweep as text
    from crosscheck.runs import memory, sweep

    memory.keep_freed()         # before the frameworks start their threads: one arena for all
    modules = _backends(args)
    if "numpy" not in modules:
        raise UsageError("crosscheck sweep: --backends: the sweep compares every backend with "
                         "the NumPy reference, so the list must include numpy")
    lacking = [name for name, module in modules.items() if not hasattr(module, "stacked_step")]
    if lacking:
        raise UsageError(f"crosscheck sweep: --backends: not supported by {lacking[0]}: it has "
                         "no stacked_step")
    lacking = [name for name, module in modules.items()
               if args.optimizers and not hasattr(module, "refuse_optimizer")]
    if lacking:
        raise UsageError(f"crosscheck sweep --optimizers: --backends: not supported by "
                         f"{lacking[0]}: it has no refuse_optimizer (and so no optimizers)")
    options = dict(count=args.count, seed=args.seed, rules=args.rules, dtype=args.dtype,
                   per_architecture=args.per_architecture or sweep.PER_ARCHITECTURE,
                   optimizers=args.optimizers)
    try:
        if args.jobs > 1:
            from crosscheck.runs import sweep_jobs

            names = args.backends.split(",") if args.backends else list(modules)
            specs = dict(zip(modules, (name.strip() for name in names if name.strip())))
            report = sweep_jobs.run(modules, specs, args.jobs, args.shard, args.worst, **options)
        else:
            progress = _progress(args, f"{args.count} networks", "architectures")
            report = sweep.sweep(modules, worst_file=args.worst, shard=args.shard,
                                 progress=progress, **options,
                                 apart=sweep.apart_by_default(modules,
                                                              args.count // args.shard[1]))
    except RuleUndefined as exc:       # not drawn on purpose: the draw keeps row sums positive
        raise UsageError(f"crosscheck sweep --seed {args.seed}: a drawn network: {exc}") from None
    report.skipped = args.skipped
    print(json.dumps(as_json.sweep(report), indent=1) if args.json else text.render(report))
    return 0 if report.ok else 1


def _verify(args) -> int:
    from crosscheck.report import as_json
    from crosscheck.runs import user_code, verify

    example = examples.load(_example_path(args.example))
    try:
        function = user_code.load(args.function, True if args.step else None)
        report = verify.verify(function, example, args.random, args.seed, args.layout)
    except user_code.FunctionError as exc:
        raise UsageError(f"crosscheck verify: {exc}") from None
    except user_code.UserCodeFailed as exc:
        print(f"crosscheck verify: {exc}\n{user_code.user_frames(exc)}", file=sys.stderr)
        return 2
    print(json.dumps(as_json.verify(report), indent=1) if args.json else str(report))
    return 0 if report.ok else 1


def _diff(args) -> int:
    from crosscheck.report import as_json
    from crosscheck.report import diff as text
    from crosscheck.runs import diff

    try:
        report = diff.diff(args.a, args.b, args.tolerance)
    except diff.ResultFileError as exc:
        raise UsageError(f"crosscheck diff: {exc}") from None
    print(json.dumps(as_json.diff(report), indent=1) if args.json else text.render(report))
    return 0 if report.ok else 1


COMMANDS = {"list": _list, "env": _env, "diff": _diff, "show": _show, "run": _run_or_check,
            "check": _run_or_check, "train": _train, "rules": _rules, "sweep": _sweep,
            "optimizers": _optimizers,
            "verify": _verify}


def main(argv=None) -> int:
    import numpy as np

    from crosscheck.runs.example import Diverged

    try:
        args = build_parser().parse_args(argv)
        # A diverging run is reported by Diverged with its step; NumPy need not warn first.
        with np.errstate(all="ignore"):
            code = COMMANDS[args.command](args)
        sys.stdout.flush()           # inside the try: a reader gone is a BrokenPipeError here
        return code
    except (UsageError, examples.ExampleError, examples.UnknownExample,
            registry.BackendUnavailable) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except BrokenPipeError:          # the reader went away (`crosscheck run --all | head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE
    except OSError as exc:           # an output that cannot be written after all
        print(f"crosscheck: cannot write {exc.filename or ''}: {exc.strerror or exc}",
              file=sys.stderr)
        return 2
    except Diverged as exc:
        print(f"crosscheck: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("crosscheck: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
