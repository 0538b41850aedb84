"""The report of ``crosscheck verify``: plain text, and HTML for a notebook."""

from __future__ import annotations

import html as markup

from crosscheck.report.text import wrap

SHOWN = 5        # mismatches listed; the rest are counted


def _heading(report) -> str:
    form = "training step" if report.step else "gradients"
    return (f"{report.function} against the reference on {report.example.name}: {form}, "
            f"{report.probes} probe(s) (the example's own numbers and "
            f"{report.probes - 1} random network(s) of its architecture)")


def _layers(report) -> str:
    return ", ".join(f"layer {i} {'right' if ok else 'WRONG'}"
                     for i, ok in enumerate(report.layers_ok))


def render(report) -> str:
    lines = [wrap(_heading(report)), ""]
    if report.ok:
        lines.append("OK: every number agrees with the reference on every probe")
        return "\n".join(lines)
    lines.append(f"FAIL: {len(report.mismatches)} array(s) differ; {_layers(report)}")
    for found in report.diagnosis:
        lines += ["", wrap(f"Diagnosis: {found.mistake}: {found.explanation}."),
                  wrap(f"  Fix: {found.fix}.")]
    if not report.diagnosis:
        lines += ["", "No known mistake gives these numbers. The first that differ:"]
    else:
        lines += ["", "The numbers that differ:"]
    for mismatch in report.mismatches[:SHOWN]:
        found = mismatch.disagreement
        if found.problem:
            lines.append(wrap(f"  {mismatch.probe}: {found.place}: {found.problem}"))
            continue
        lines.append(wrap(f"  {mismatch.probe}: {mismatch.label} ({found.place}): reference "
                          f"{found.values[0]:.10g}, yours {found.values[1]:.10g} (relative "
                          f"difference {found.rel_diff:.3g})"))
    if len(report.mismatches) > SHOWN:
        lines.append(f"  … and {len(report.mismatches) - SHOWN} more")
    return "\n".join(lines)


def html(report) -> str:
    """The same report as an HTML block: a heading, the verdict, the diagnosis, a table."""
    e = markup.escape
    verdict = ("<b style='color:#1a7f37'>OK</b>: every number agrees with the reference on "
               "every probe" if report.ok else
               f"<b style='color:#cf222e'>FAIL</b>: {len(report.mismatches)} array(s) differ; "
               f"{e(_layers(report))}")
    parts = [f"<div class='crosscheck-verify'><p>{e(_heading(report))}</p><p>{verdict}</p>"]
    for found in report.diagnosis:
        where = "" if found.layer is None else f" (layer {found.layer})"
        parts.append(f"<p><b>Diagnosis: <code>{e(found.mistake)}</code>{where}</b>: "
                     f"{e(found.explanation)}.<br>Fix: {e(found.fix)}.</p>")
    if report.mismatches:
        rows = "".join(
            f"<tr><td>{e(m.probe)}</td><td>{e(m.label)}</td>"
            f"<td>{m.disagreement.values[0]!r}</td><td>{m.disagreement.values[1]!r}</td></tr>"
            for m in report.mismatches[:SHOWN])
        parts.append("<table><tr><th>probe</th><th>number</th><th>reference</th>"
                     f"<th>yours</th></tr>{rows}</table>")
    return "".join(parts) + "</div>"
