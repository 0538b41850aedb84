"""MkDocs hooks: the numbers and figures on the pages are computed by the code at build time.

A page asks for them with a comment on a line of its own:

    <!-- crosscheck: run seed002-linear -->      the side-by-side table, every installed backend
    <!-- crosscheck: rules xor -->               the rules report (NumPy) and its loss plot
    <!-- crosscheck: check hand-calculation.toml -->   a docs example file, as `crosscheck check`
    <!-- crosscheck: verify verify/student.py:gradients seed001-exact -->   `crosscheck verify`
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from mkdocs.structure.files import File

import reference
from crosscheck import backends, examples
from crosscheck.report import plots, tables
from crosscheck.report import rules as rules_text
from crosscheck.runs import example as runs
from crosscheck.runs import rules

DOCS = Path(__file__).resolve().parent
RULES_EXAMPLES = ("xor", "seed000")
PLACEHOLDER = re.compile(r"^<!-- crosscheck: (run|rules|check|verify) (\S+(?: \S+)?) -->$",
                         re.MULTILINE)
_rules_reports: dict[str, rules.RulesReport] = {}
_folders: list[Path] = []


def on_files(files, config):
    """Measure the rules once and add their plots to the site as generated files."""
    folder = Path(tempfile.mkdtemp(prefix="crosscheck-docs-"))
    _folders.append(folder)
    (folder / "generated").mkdir()
    for name in RULES_EXAMPLES:
        report = rules.measure(examples.load(examples.find(name)), {"numpy": reference})
        _rules_reports[name] = report
        plots.rules(report, folder / "generated" / f"rules-{name}.png")
        files.append(File(f"generated/rules-{name}.png", str(folder), config["site_dir"],
                          config["use_directory_urls"]))
    return files


def _run(name: str) -> str:
    modules = {n: backends.load(n) for n in backends.available()}
    report = runs.run(examples.load(examples.find(name)), modules)
    return f"```text\n{tables.render(report)}\n```"


def _check(name: str) -> str:
    report = runs.run(examples.load(DOCS / name), {"numpy": reference})
    return f"```text\n$ crosscheck check docs/{name} --backends numpy\n{tables.render(report)}\n```"


def _rules(name: str) -> str:
    text = rules_text.render(_rules_reports[name])
    return (f"```text\n$ crosscheck rules {name} --backends numpy\n{text}\n```\n\n"
            f"![Loss per step under each rule: {name}](generated/rules-{name}.png)")


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
    kinds = {"run": _run, "rules": _rules, "check": _check, "verify": _verify}
    return PLACEHOLDER.sub(
        lambda m: f'<div class="crosscheck-output" markdown>\n\n{kinds[m.group(1)](m.group(2))}'
                  "\n\n</div>", markdown)
