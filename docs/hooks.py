"""MkDocs hooks: the numbers and figures on the pages are computed by the code at build time.

A page asks for them with a comment on a line of its own:

    <!-- crosscheck: run seed002-linear -->      the side-by-side table
    <!-- crosscheck: rules xor -->               the rules report and its loss plot
    <!-- crosscheck: check hand-calculation.toml -->   a docs example file, as `crosscheck check`
    <!-- crosscheck: verify verify/student.py:gradients seed001-exact -->   `crosscheck verify`
    <!-- crosscheck: picture seed002-linear -->  the network, as `crosscheck show --svg` draws it
    <!-- crosscheck: docstring reference -->     a module's docstring, verbatim (plain text)

Every run is on every installed backend, as `make demo` runs it.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from mkdocs.structure.files import File

from crosscheck import backends, examples
from crosscheck.report import picture, plots, tables
from crosscheck.report import rules as rules_text
from crosscheck.runs import example as runs
from crosscheck.runs import rules

DOCS = Path(__file__).resolve().parent
RULES_EXAMPLES = ("xor", "seed000")
KINDS = "run|rules|check|verify|picture|docstring"
PLACEHOLDER = re.compile(rf"^<!-- crosscheck: ({KINDS}) (\S+(?: \S+)?) -->$", re.MULTILINE)
_rules_reports: dict[str, rules.RulesReport] = {}
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
             "picture": _picture, "docstring": _docstring}
    return PLACEHOLDER.sub(
        lambda m: f'<div class="crosscheck-output" markdown>\n\n{kinds[m.group(1)](m.group(2))}'
                  "\n\n</div>", markdown)
