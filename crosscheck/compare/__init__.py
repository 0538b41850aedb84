"""The comparison stage: the vocabulary of quantities, the tolerance policy, the one comparison
of backends (``comparison.py``) and the checks of published figures (``published.py``)."""
