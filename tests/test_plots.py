"""What the plots show, read back from the matplotlib figure: a one-step example's figures
panel (each published figure's distance from its print), and the rules plot's labelled
threshold with the legend outside the axes."""

from __future__ import annotations

import pytest

import reference
from crosscheck import examples
from crosscheck.report import plots
from crosscheck.runs import example as runs
from crosscheck.runs import rules

plt = pytest.importorskip("matplotlib.pyplot")


def test_a_one_step_example_plots_its_figures_against_their_prints():
    report = runs.run(examples.load(examples.find("seed002-linear")), {"numpy": reference})
    fig, ax = plt.subplots()
    plots._figures(ax, report)
    heights = [bar.get_height() for bar in ax.patches if bar.get_width() < 1]
    labels = [tick.get_text() for tick in ax.get_xticklabels()]
    assert labels[:5] == ["h1", "h2", "prediction", "Δ", "a·Δ·h1"] and labels[-1] == \
        "prediction after"
    # a·Δ·h1 = 0.05 · (−0.7963) · 1.23 = −0.04897245, printed −0.0478: (−0.04897245 + 0.0478)
    # = −0.00117245 in half units of 0.0001 (0.00005) is −23.449: an erratum; h1 = 1.23: 0.
    assert heights[4] == pytest.approx(-23.449, abs=1e-9) and heights[0] == pytest.approx(0)
    assert [tick.get_color() for tick in ax.get_xticklabels()][4] == "firebrick"
    plt.close(fig)


def test_the_rules_plot_labels_its_threshold_and_keeps_the_legend_off_the_lines(tmp_path):
    report = rules.measure(examples.load(examples.find("xor")), {"numpy": reference},
                           steps=50)
    saved = []
    real_save = plots._save
    plots._save = lambda fig, path: saved.append(fig) or real_save(fig, path)
    try:
        plots.rules(report, tmp_path / "rules.png")
    finally:
        plots._save = real_save
    (fig,) = saved
    (ax,) = fig.axes
    assert ax.get_legend() is None and len(fig.legends) == 1            # outside the axes
    assert f"threshold {report.threshold:g}" in [t.get_text() for t in ax.texts]
    assert f"threshold {report.threshold:g}" in [t.get_text() for t in fig.legends[0].texts]
