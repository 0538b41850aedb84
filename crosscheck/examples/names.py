"""The names an example gives its parameters and neurons, and the labels they make in tables.

Unnamed numbers read ``W0[1,2]`` (the weight ``layers[0].weights[1][2]``), ``b0[1]``
(``layers[0].bias[1]``) and ``a0[1]`` (neuron 1 of ``layers[0]``).
"""

from __future__ import annotations

from dataclasses import dataclass

from crosscheck.compare.quantities import BY_KEY, Form, Place


@dataclass(frozen=True)
class Names:
    weights: tuple[tuple[tuple[str, ...], ...] | None, ...]   # per layer, like the weights
    biases: tuple[tuple[str, ...] | None, ...]                 # per layer, one per neuron
    neurons: tuple[tuple[str, ...] | None, ...]                # per layer, one per neuron
    samples: int

    def parameters(self) -> dict[str, tuple[int, str, tuple[int, ...]]]:
        """name → (layer, part, index) of every named weight and bias."""
        found = {}
        for layer, rows in enumerate(self.weights):
            for r, row in enumerate(rows or ()):
                for c, name in enumerate(row):
                    found[name] = (layer, "weights", (r, c))
        for layer, names in enumerate(self.biases):
            for j, name in enumerate(names or ()):
                found[name] = (layer, "bias", (j,))
        return found

    def parameter(self, layer: int, part: str, index) -> str:
        names = self.weights[layer] if part == "weights" else self.biases[layer]
        if part == "weights":
            return names[index[0]][index[1]] if names else f"W{layer}[{index[0]},{index[1]}]"
        return names[index[0]] if names else f"b{layer}[{index[0]}]"

    def neuron(self, layer: int, j: int) -> str:
        names = self.neurons[layer]
        return names[j] if names else f"a{layer}[{j}]"

    def label(self, place: Place) -> str:
        """What a reader calls the number: "w5 after", "∂E/∂w5", "h1 error (sample 2)"."""
        quantity = BY_KEY[place.quantity]
        if quantity.form in (Form.SCALAR, Form.SERIES):
            return quantity.label
        if quantity.form is Form.PARAMETERS:
            return quantity.label.format(self.parameter(place.layer, place.part, place.index))
        sample, j = place.index
        layer = len(self.neurons) - 1 if place.layer is None else place.layer
        sample_note = f" (sample {sample})" if self.samples > 1 else ""
        return quantity.label.format(self.neuron(layer, j)) + sample_note
