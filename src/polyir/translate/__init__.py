"""Machine translation of training pairs (translate-train data), cached and resumable.

`pipeline.translate_file` is the entry point (``polyir translate``); `filter_pairs.filter_pair_file`
filters any pair file (``polyir data filter``).  See docs/translation.md.  Nothing is imported
here: transformers, CTranslate2 and py3langid load only when used.
"""
