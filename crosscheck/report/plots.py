"""PNG figures (matplotlib, Agg backend): a training run across backends, and the rules' runs.

Each figure is titled, its axes labelled, and laid out with ``constrained`` layout so that
nothing is clipped. Files are written to a temporary name and renamed, so an interrupted run
never leaves half a PNG.
"""

from __future__ import annotations

import numpy as np

from crosscheck import atomic

STYLES = ["-", "--", ":", "-."]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path) -> None:
    with atomic.replacing(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")


def training(report, path) -> None:
    """Two panels: the loss per step on every backend, and the largest difference between any
    two backends per step (log scale)."""
    plt = _pyplot()
    example, settings = report.example, report.settings
    names = list(report.results)
    # A run of a step or two has nothing to show per step: its other panel is the figures.
    short = settings.steps <= 2 and bool(report.checks)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 8 if short else 7), sharex=not short,
                                      layout="constrained")
    steps = np.arange(1, settings.steps + 1)
    marker = "o" if settings.steps <= 50 else None
    for i, name in enumerate(names):
        # Step 0 is the loss at the initial parameters, so a one-step run is a line too.
        losses = [report.results[name].loss_before, *report.results[name].losses]
        top.plot(np.arange(settings.steps + 1), losses, linestyle=STYLES[i % len(STYLES)],
                 marker=marker, markersize=4, label=f"{name} {report.versions[name]}")
    finite = np.concatenate([np.asarray(r.losses, np.float64) for r in report.results.values()])
    finite = finite[np.isfinite(finite) & (finite > 0)]
    if finite.size and finite.max() > 10 * finite.min():
        top.set_yscale("log")
    top.set_ylabel(f"loss ({example.loss}) after the step\n(step 0: before training)")
    top.legend(fontsize="small")
    plural = "s" if settings.steps != 1 else ""
    top.set_title(f"{example.name}: {settings.steps} {settings.mode} step{plural}, rule "
                  f"{settings.rule}, {settings.dtype}, learning rate {settings.learning_rate:g}",
                  fontsize="medium")
    if short:
        _figures(bottom, report)
    elif len(names) > 1:
        losses = np.array([np.asarray(report.results[n].losses, np.float64) for n in names])
        spread = losses.max(axis=0) - losses.min(axis=0)
        shown = np.where(spread > 0, spread, np.nan)
        if np.any(spread > 0):
            bottom.plot(steps, shown, color="C3", marker=".", markersize=3 if marker is None else 6,
                        linestyle="none")
            bottom.set_yscale("log")
        note = "\n(no dot: every backend gives the same loss, to the bit)" \
            if np.any(spread == 0) else ""
        bottom.set_ylabel("largest |difference|")
        bottom.set_title(f"Largest difference in the loss between {', '.join(names)}, per "
                         f"step{note}", fontsize="medium")
        if np.all(spread == 0):
            bottom.text(0.5, 0.5, "every backend gives bit-identical losses", ha="center",
                        transform=bottom.transAxes)
            bottom.set_yticks([])
    else:
        bottom.text(0.5, 0.5, f"{names[0]} only: no second backend to compare", ha="center",
                    transform=bottom.transAxes)
        bottom.set_yticks([])
    unit = "one pass over the data" if settings.mode == "online" else "one update"
    (top if short else bottom).set_xlabel(f"step ({settings.mode}: {unit})")
    top.xaxis.get_major_locator().set_params(integer=True)
    _save(fig, path)
    plt.close(fig)


def _tick(figure) -> str:
    """The tutorial's label where the example gives one ("a·Δ·h1"; "h1 after" for the forward
    pass repeated after the step), else the project's ("w5 after")."""
    if not figure.own_label:
        return figure.label
    after = figure.quantity.key.endswith("_after") and not figure.own_label.startswith("*")
    return figure.own_label + " after" * after


def _figures(ax, report) -> None:
    """A short run's other panel: every published figure, how far each backend's value lies
    from the printed one, in units of half the printed last place (within ±1 it rounds to
    the print; an erratum lies outside)."""
    from crosscheck.compare.published import half_unit, parse_printed

    checks, names = report.checks, list(report.results)
    width = 0.8 / max(len(names), 1)
    for b, name in enumerate(names):
        distances = []
        for check in checks:
            printed = parse_printed(check.figure.printed)
            value = check.figure.quantity.number(report.results[name],
                                                 report.settings.learning_rate,
                                                 check.figure.place)
            distances.append(float((value - float(printed)) / float(half_unit(printed))))
        ax.bar(np.arange(len(checks)) + (b - (len(names) - 1) / 2) * width, distances, width,
               label=name, color=f"C{b}")
    ax.axhspan(-1, 1, color="green", alpha=0.12, label="rounds to the print")
    ax.set_xticks(np.arange(len(checks)), [_tick(c.figure) for c in checks], rotation=60,
                  ha="right", fontsize="x-small")
    for tick, check in zip(ax.get_xticklabels(), checks):
        tick.set_color("firebrick" if check.figure.erratum else "black")
    ax.set_ylabel("computed − printed\n(half units of the last printed digit)")
    ax.set_title("Every published figure (errata in red): within the band it rounds to the "
                 "print", fontsize="medium")
    ax.legend(fontsize="small", loc="best")


def rules(report, path) -> None:
    """Loss curves, one line per rule and backend (colour: rule; line style: backend)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
    for r, rule in enumerate(report.rules):
        for b, (name, run) in enumerate(report.training[rule].items()):
            if run.losses.size:
                steps = np.arange(1, run.losses.size + 1)
                ax.plot(steps, run.losses, linestyle=STYLES[b % len(STYLES)], color=f"C{r}",
                        linewidth=1.6 if b == 0 else 1.2, label=f"{rule} ({name})")
    ax.axhline(report.threshold, color="grey", linewidth=0.8, linestyle=":",
               label=f"threshold {report.threshold:g}")
    ax.annotate(f"threshold {report.threshold:g}", (1.0, report.threshold),
                xycoords=("axes fraction", "data"), xytext=(-4, 3), textcoords="offset points",
                ha="right", va="bottom", fontsize="small", color="dimgrey")
    ax.set_yscale("log")
    unit = "one pass over the data" if report.settings.mode == "online" else "one update"
    ax.set_xlabel(f"step ({report.settings.mode}: {unit})")
    ax.set_ylabel(f"loss ({report.example.loss}) after the step")
    ax.set_title(f"{report.example.name}: loss per step under each rule, on each backend\n"
                 "(colour: rule; line style: backend; lines of one colour overlap when the "
                 "backends agree)", fontsize="medium")
    # Below the axes, so that it covers no line.
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", fontsize="small",
               ncols=min(4, len(report.rules)))
    _save(fig, path)
    plt.close(fig)


def optimizers(report, path) -> None:
    """Two panels: the loss per step under each convention, and the largest parameter
    difference per step of each pair of conventions (log scales; 0 drawn at 1e-17)."""
    plt = _pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 7), sharex=True, layout="constrained")
    for k, (convention, run) in enumerate(report.runs.items()):
        if run.losses.size:
            top.plot(np.arange(1, run.losses.size + 1), run.losses, color=f"C{k}",
                     linestyle=STYLES[k % len(STYLES)], label=convention)
    top.set_yscale("log")
    top.set_ylabel(f"loss ({report.example.loss})")
    top.legend(fontsize="small")
    for k, pair in enumerate(report.pairs):
        bottom.plot(np.arange(1, pair.differences.size + 1), np.maximum(pair.differences, 1e-17),
                    color=f"C{k + 3}", linestyle=STYLES[k % len(STYLES)],
                    label=f"{pair.a} – {pair.b}")
    bottom.set_yscale("log")
    bottom.set_xlabel(f"step ({report.mode})")
    bottom.set_ylabel("largest |Δ weight| between conventions")
    bottom.legend(fontsize="small")
    top.set_title(f"{report.example.name}: {report.optimizer.name} under each framework's "
                  "convention (NumPy reference)", fontsize="medium")
    _save(fig, path)
    plt.close(fig)
