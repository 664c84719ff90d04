"""Scoring kernels: canonical scores (`exact_scores`), rank counting (`rank_counting`), the best k
of a row (`top_selection`) and the searches built on them (`topk_search`: exact top-k in bounded
memory, `search()`, the FAISS backend).  docs/design.md ("Ranking, ties and full-depth metrics")."""
