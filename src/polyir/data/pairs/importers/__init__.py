"""Importers of training pairs, one module per source format (`polyir.data.pairs.importing`
dispatches on the format's name)."""

FORMATS = ("squad", "bitext", "beir", "mmarco", "triples", "table")
