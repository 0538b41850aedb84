"""An example file's ``[tutorial]``: the tutorial its figures come from, in the tutorial's words.

```toml
[tutorial]
title = "Back-Propagation"            # as the tutorial titles itself
author = ""                           # where the text shows them
site = ""
cite = "seed 002 of the project's specification"   # how a reader finds it

[tutorial.labels]                     # per figure key, in the order the tutorial prints them
"activations_before.0[0][0]" = { label = "h1", where = "Forward Pass" }
"updates.w5" = { label = "a·Δ·h1", where = "Backward Pass" }
```

Tables list the labelled figures first, in that order, with the tutorial's label beside the
project's; an erratum stays in its place. Every key of ``labels`` must be a figure of the file.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace

from crosscheck.examples.fields import Fields, kind
from crosscheck.examples.figures import Figure

KEYS = {"title", "author", "site", "cite", "labels"}


@dataclass(frozen=True)
class Tutorial:
    title: str = ""
    author: str = ""
    site: str = ""
    cite: str = ""
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)   # key → (label, where)

    def citation(self) -> str:
        """One line a reader can cite: "Back-Propagation" (author, site; cite)."""
        more = "; ".join(part for part in (", ".join(p for p in (self.author, self.site) if p),
                                           self.cite) if part)
        title = f'"{self.title}"' if self.title else ""
        return " ".join(part for part in (title, f"({more})" if more else "") if part)


def read(fields: Fields, doc) -> Tutorial:
    """The ``[tutorial]`` table, or an empty Tutorial."""
    table = doc.get("tutorial", {})
    fields.keys(table, "tutorial", KEYS)
    strings = {key: fields.string(table, key, where="tutorial.") for key in KEYS - {"labels"}}
    labels = {}
    raw = table.get("labels", {})
    if not isinstance(raw, dict):
        fields.fail("tutorial.labels", f"expected a table, got {kind(raw)}")
    for key, entry in raw.items():
        where = f'tutorial.labels."{key}"'
        if isinstance(entry, str):
            entry = {"label": entry}
        if not isinstance(entry, dict):
            fields.fail(where, f"expected a label or {{ label = ..., where = ... }}, got "
                               f"{kind(entry)}")
        fields.keys(entry, where, {"label", "where"})
        labels[key] = (fields.string(entry, "label", required=True, where=where + "."),
                       fields.string(entry, "where", where=where + "."))
    return Tutorial(**strings, labels=labels)


def apply(fields: Fields, tutorial: Tutorial, figures: tuple[Figure, ...]) -> tuple[Figure, ...]:
    """The figures with the tutorial's labels, labelled ones first in the tutorial's order."""
    by_key = {figure.key: figure for figure in figures}
    for key in tutorial.labels:
        if key not in by_key:
            close = difflib.get_close_matches(key, list(by_key), n=1, cutoff=0.6)
            fields.fail(f'tutorial.labels."{key}"', "not a figure of [expected] or [errata]"
                        + (f"; did you mean {close[0]}?" if close else ""))
    labelled = [replace(by_key[key], own_label=label, printed_at=where)
                for key, (label, where) in tutorial.labels.items()]
    return tuple(labelled + [f for f in figures if f.key not in tutorial.labels])
