"""The synthetic multilingual testbed: a generated world, its languages, rendered as XQuAD-R-format
evaluation sets and pair files (`polyir data synthetic`)."""
