"""backprop-crosscheck: the harness, the example files and the command line."""
