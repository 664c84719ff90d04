"""Evaluation-set readers: files -> validated `RetrievalSet`s (XQuAD-R / MLQA-R, BEIR and its
translations) and the SQuAD reader the pair importers share."""
