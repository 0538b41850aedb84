"""backprop-crosscheck: the harness, the example files and the command line.

From Python, ``crosscheck.verify(fn, example="xor")`` checks your own backprop function against
the reference and names the mistake when it is wrong (``crosscheck.runs.verify``); the pytest
helper is ``crosscheck.testing.assert_matches_reference``. Importing ``crosscheck`` imports
neither PyTorch nor JAX.
"""

from __future__ import annotations


def load_example(name_or_file):
    """A shipped example by name, an example file by path, or an Example as it is."""
    from crosscheck import examples

    if isinstance(name_or_file, examples.Example):
        return name_or_file
    text = str(name_or_file)
    path = text if text.endswith(".toml") or "/" in text else examples.find(text)
    return examples.load(path)


def verify(function, example="seed002-linear", random: int = 20, seed: int = 0,
           layout: str = "outputs-inputs", step: bool | None = None):
    """Check ``function(weights, biases, X, T) -> (weight_gradients, bias_gradients)``, or a
    step ``function(weights, biases, X, T, lr) -> (weights, biases)``, on ``example`` (a name,
    a file or an Example) and ``random`` random probes of its architecture. Returns a report
    with ``.ok``, ``.diagnosis`` and ``.mismatches``; it prints as text and shows as HTML in a
    notebook. An exception in ``function`` is raised again from the function's own code."""
    from crosscheck.runs import user_code
    from crosscheck.runs import verify as runs

    try:
        return runs.verify(function, load_example(example), random, seed, layout, step)
    except user_code.UserCodeFailed as failed:
        raise user_code.from_user_frame(failed) from None
