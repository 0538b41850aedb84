"""The ``crosscheck`` command: list, run and check examples on the NumPy, PyTorch and JAX backends.

Exit codes: 0 all backends agree and every published figure holds; 1 a disagreement or a figure
that does not hold; 2 bad input or usage (one line on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from crosscheck import backends as registry
from crosscheck import examples
from reference.types import DTYPES, MODES, RULES, RuleUndefined

EPILOG_RUN = """examples:
  crosscheck run seed002-linear
  crosscheck run --all --backends numpy --json
  crosscheck run xor --rule raw_error --steps 100"""


class UsageError(Exception):
    """Bad input or usage: reported as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def _common(parser, rule=True):
    parser.add_argument("--backends", metavar="LIST",
                        help="comma-separated backends, e.g. numpy,torch,jax (default: every "
                             "built-in backend whose framework is installed)")
    if rule:
        parser.add_argument("--rule", choices=RULES, help="override the example's rule")
    parser.add_argument("--dtype", choices=DTYPES, default="float64")
    parser.add_argument("--steps", type=_positive_int, help="override the example's steps")
    parser.add_argument("--mode", choices=MODES, help="override the example's mode")
    parser.add_argument("--lr", type=_positive_float, help="override the learning rate")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number ≥ 1, got {text}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="crosscheck", description=__doc__.split("\n")[0],
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    sub.add_parser("list", help="the shipped examples, one line each",
                   epilog="example:\n  crosscheck list",
                   formatter_class=argparse.RawDescriptionHelpFormatter)
    run = sub.add_parser("run", help="run shipped examples on every backend and compare",
                         epilog=EPILOG_RUN, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("name", nargs="?", help="a shipped example (see crosscheck list)")
    run.add_argument("--all", action="store_true", help="run every shipped example")
    _common(run)
    check = sub.add_parser("check", help="run your own example file on every backend",
                           epilog="example:\n  crosscheck check my-network.toml --json",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("file", help="an example file in the format of docs/example-format.md")
    _common(check)
    rules = sub.add_parser(
        "rules", help="how far the tutorials' rules stray from the gradient",
        description="Per layer, the cosine between each rule's first update and the true "
                    "gradient and their relative difference; then a training run under each "
                    "rule: loss per step, steps to reach --threshold, truth table reached.",
        epilog="examples:\n  crosscheck rules xor\n  crosscheck rules seed000 --plot rules.png"
               "\n  crosscheck rules xor --rules exact,raw_error --steps 2000 --json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    rules.add_argument("name", help="a shipped example or an example file (.toml)")
    rules.add_argument("--rules", metavar="LIST", type=_rule_list, default=list(RULES),
                       help=f"comma-separated rules (default: {','.join(RULES)})")
    rules.add_argument("--threshold", type=_positive_float, default=0.01,
                       help="the loss to reach in training (default 0.01)")
    rules.add_argument("--plot", metavar="FILE.png", help="draw the loss curves to a PNG file")
    _common(rules, rule=False)
    return parser


def _rule_list(text):
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in RULES]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"expected rules from {', '.join(RULES)}, got {text!r}")
    return names


def _backends(option: str | None) -> dict:
    if option is None:
        return {name: registry.load(name) for name in registry.available()}
    names = [name.strip() for name in option.split(",") if name.strip()]
    if not names:
        raise UsageError("crosscheck: --backends: expected a comma-separated list of names")
    return {name: registry.load(name) for name in names}


def _run_one(path, args, modules):
    from crosscheck import harness

    example = examples.load(path)
    try:
        return harness.run(example, modules, rule=args.rule, dtype=args.dtype, steps=args.steps,
                           mode=args.mode, lr=args.lr)
    except RuleUndefined as exc:
        raise UsageError(f"{path}: rule: {exc}") from None


def _example_path(name: str):
    """A shipped example's file, or the path itself when it names a file."""
    return name if name.endswith(".toml") or os.sep in name else examples.find(name)


def _rules(args) -> int:
    from crosscheck import rules

    path = _example_path(args.name)
    example = examples.load(path)
    modules = _backends(args.backends)
    report = rules.measure(example, modules, args.rules, args.threshold, args.dtype,
                           args.steps, args.mode, args.lr)
    if args.plot:
        rules.plot(report, args.plot)
    if args.json:
        print(json.dumps(report.to_json()))
    else:
        print(rules.render(report))
        if args.plot:
            print(f"plot: {args.plot}")
    return 0 if report.ok else 1


def main(argv=None) -> int:
    try:
        return _main(argv)
    except (UsageError, examples.ExampleError, registry.BackendUnavailable, KeyError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) else str(exc)
        print(message, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("crosscheck: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:          # the reader went away (`crosscheck run --all | head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _main(argv) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "list":
        for path in examples.shipped():
            example = examples.load(path)
            print(f"{example.name:<28} {example.title}")
        return 0

    if args.command == "rules":
        return _rules(args)

    if args.command == "run":
        if args.all == bool(args.name):
            raise UsageError("crosscheck run: give one example NAME or --all")
        paths = examples.shipped() if args.all else [examples.find(args.name)]
    else:
        paths = [args.file]
    modules = _backends(args.backends)
    reports = [_run_one(path, args, modules) for path in paths]

    from crosscheck import table

    if args.json:
        if args.command == "run" and args.all:
            out = {"examples": [r.to_json() for r in reports], "ok": all(r.ok for r in reports)}
        else:
            out = reports[0].to_json()
        print(json.dumps(out, indent=1))
    else:
        print("\n\n".join(table.render(report) for report in reports))
    return 0 if all(report.ok for report in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
