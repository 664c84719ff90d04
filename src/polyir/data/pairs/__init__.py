"""Training pairs: the canonical pair files, importers from other formats, the collection a
sampler draws from, the leakage guard, splits and statistics."""
