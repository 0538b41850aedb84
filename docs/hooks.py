"""MkDocs hooks: the numbers and figures on the pages are computed by the code at build time.

A page asks for them with a comment on a line of its own:

    <!-- crosscheck: run seed002-linear -->      the side-by-side table
    <!-- crosscheck: rules xor -->               the rules report and its loss plot
    <!-- crosscheck: check hand-calculation.toml -->   a docs example file, as `crosscheck check`
    <!-- crosscheck: verify verify/student.py:gradients seed001-exact -->   `crosscheck verify`
    <!-- crosscheck: picture seed002-linear -->  the network, as `crosscheck show --svg` draws it
    <!-- crosscheck: docstring reference -->     a module's docstring, verbatim (plain text)
    <!-- crosscheck: optimizers xor-rmsprop -->  `crosscheck optimizers` and its plot
    <!-- crosscheck: divergence seed000 -->      every optimizer's conventions compared, a table

Every run is on every installed backend, as `make demo` runs it.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from mkdocs.structure.files import File

from crosscheck import backends, examples
from crosscheck.report import optimizers as optimizers_text
from crosscheck.report import picture, plots, tables
from crosscheck.report import rules as rules_text
from crosscheck.runs import example as runs
from crosscheck.runs import optimizers, rules
from reference import Optimizer

DOCS = Path(__file__).resolve().parent
RULES_EXAMPLES = ("xor", "seed000", "xor-bce")
OPTIMIZER_EXAMPLES = ("xor-rmsprop", "xor-adam")
# The divergence table's optimizers (torch.optim's names) and learning rates, 100 steps each.
DIVERGENCE = [(Optimizer("sgd", momentum=0.9, nesterov=True), 0.5),
              (Optimizer("sgd", momentum=0.9, weight_decay=0.01), 0.5),
              (Optimizer("adam"), 0.02), (Optimizer("adam", weight_decay=0.01), 0.02),
              (Optimizer("adam", amsgrad=True), 0.02), (Optimizer("adamw"), 0.02),
              (Optimizer("rmsprop"), 0.01), (Optimizer("rmsprop", momentum=0.9), 0.01),
              (Optimizer("rmsprop", centered=True), 0.01)]
KINDS = "run|rules|check|verify|picture|docstring|optimizers|divergence"
PLACEHOLDER = re.compile(rf"^<!-- crosscheck: ({KINDS}) (\S+(?: \S+)?) -->$", re.MULTILINE)
_rules_reports: dict[str, rules.RulesReport] = {}
_optimizer_reports: dict[str, optimizers.ConventionsReport] = {}
_folders: list[Path] = []


def _modules() -> dict:
    """Every installed backend, as the commands use them by default."""
    return backends.defaults()[0]


def on_files(files, config):
    """Measure the rules once, draw every shipped network, and add the plots and pictures to
    the site as generated files."""
    folder = Path(tempfile.mkdtemp(prefix="crosscheck-docs-"))
    _folders.append(folder)
    (folder / "generated").mkdir()
    made = []
    for name in RULES_EXAMPLES:
        report = rules.measure(examples.load(examples.find(name)), _modules())
        _rules_reports[name] = report
        plots.rules(report, folder / "generated" / f"rules-{name}.png")
        made.append(f"generated/rules-{name}.png")
    for name in OPTIMIZER_EXAMPLES:
        example = examples.load(examples.find(name))
        report = optimizers.compare(example, example.optimizer, example.steps, example.mode,
                                    example.learning_rate)
        _optimizer_reports[name] = report
        plots.optimizers(report, folder / "generated" / f"optimizers-{name}.png")
        made.append(f"generated/optimizers-{name}.png")
    for path in [*examples.shipped(), *sorted(DOCS.glob("*.toml"))]:
        example = examples.load(path)
        text = picture.svg(example, picture.after_step(example))
        (folder / "generated" / f"network-{example.name}.svg").write_text(text)
        made.append(f"generated/network-{example.name}.svg")
    for name in made:
        files.append(File(name, str(folder), config["site_dir"], config["use_directory_urls"]))
    return files


def _run(name: str) -> str:
    report = runs.run(examples.load(examples.find(name)), _modules())
    return f"```text\n$ crosscheck run {name}\n{tables.render(report)}\n```"


def _check(name: str) -> str:
    report = runs.run(examples.load(DOCS / name), _modules())
    return f"```text\n$ crosscheck check docs/{name}\n{tables.render(report)}\n```"


def _rules(name: str) -> str:
    text = rules_text.render(_rules_reports[name])
    return (f"```text\n$ crosscheck rules {name}\n{text}\n```\n\n"
            f"![Loss per step under each rule: {name}](generated/rules-{name}.png)")


def _optimizers(name: str) -> str:
    text = optimizers_text.render(_optimizer_reports[name])
    return (f"```text\n$ crosscheck optimizers {name}\n{text}\n```\n\n"
            f"![Loss per step under each convention, and the largest weight difference between "
            f"two of them: {name}](generated/optimizers-{name}.png)")


def _divergence(name: str) -> str:
    """One row per optimizer, one column per pair of conventions: the same, or apart from
    which step, by how much after 100 steps, and the setting that reconciles them."""
    example = examples.load(examples.find(name))
    rows = []
    for spec, lr in DIVERGENCE:
        report = optimizers.compare(example, spec, 100, example.mode, lr)
        cells = [_cell(pair) for pair in report.pairs]
        rows.append(f"| `{spec}`, η = {lr:g} | " + " | ".join(cells) + " |")
    pairs = [f"{p.a} – {p.b}" for p in report.pairs]
    return "\n".join([f"| {name}, 100 {example.mode} steps | " + " | ".join(pairs) + " |",
                      "|---" * (len(pairs) + 1) + "|", *rows])


def _cell(pair) -> str:
    if pair.apart_from is None:
        return f"same ({pair.differences.max():.0e})"
    gap = f"apart from step {pair.apart_from}, {pair.differences[-1]:.1e} at the end"
    if not pair.reconciled_by:
        return gap
    settings = ", ".join(f"`{k} = {optimizers_text.toml_value(v)}`"
                         for k, v in pair.reconciled_by.items())
    return f"{gap}; {settings}: {pair.reconciled_difference:.0e}"


def _picture(name: str) -> str:
    given = f"docs/{name}" if name.endswith(".toml") else name
    example = examples.load(DOCS / name if name.endswith(".toml") else examples.find(name))
    name = example.name
    when = "before → after its step" if example.steps == 1 else "where its training starts"
    return (f"![The network of {name}: every weight with its name and value, {when}]"
            f"(generated/network-{name}.svg)\n\n*`crosscheck show {given} --svg "
            f"{name}.svg`: each weight {when}.*")


def _docstring(module: str) -> str:
    """A module's docstring as the plain text it is written as."""
    import importlib

    return f"```text\n{importlib.import_module(module).__doc__.strip()}\n```"


def _verify(arguments: str) -> str:
    from crosscheck.runs import user_code, verify

    target, example = arguments.split()
    function = user_code.load(str(DOCS / target))
    report = verify.verify(function, examples.load(examples.find(example)))
    report.function = f"docs/{target}"
    return (f"```text\n$ crosscheck verify docs/{target} --example {example}\n{report}\n```")


def on_post_build(config):
    """The plots are in the site now: remove the temporary folder they were made in."""
    while _folders:
        shutil.rmtree(_folders.pop(), ignore_errors=True)


def on_build_error(error):
    on_post_build(None)


def on_page_markdown(markdown, page, config, files):
    kinds = {"run": _run, "rules": _rules, "check": _check, "verify": _verify,
             "picture": _picture, "docstring": _docstring, "optimizers": _optimizers,
             "divergence": _divergence}
    return PLACEHOLDER.sub(
        lambda m: f'<div class="crosscheck-output" markdown>\n\n{kinds[m.group(1)](m.group(2))}'
                  "\n\n</div>", markdown)
