"""Sphinx extension: number exercises within each page (Exercise 1, 2, ... on every page).

sphinx-exercise numbers its exercises like figures, and in a book whose table of contents
is not numbered Sphinx counts figures across the whole book, so the exercises of a late
page would read "Exercise 111". After Sphinx has assigned those numbers, this extension
renumbers each page's exercises 1, 2, ... in the order they appear; references to an
exercise and the titles of solutions ("Solution to Exercise 2") read the same table, so
they follow. The Colab twins number exercises the same way (``colab.py``).
"""

from __future__ import annotations


def renumber_per_page(app, env) -> list[str]:
    """Renumber every page's exercises from 1; return the pages whose numbers changed."""
    changed = []
    for docname, numbers_by_type in env.toc_fignumbers.items():
        numbers = numbers_by_type.get("exercise")
        if not numbers:
            continue
        in_order = sorted(numbers, key=numbers.get)
        per_page = {node_id: (position,) for position, node_id in enumerate(in_order, 1)}
        if per_page != numbers:
            numbers_by_type["exercise"] = per_page
            changed.append(docname)
    return changed


def setup(app):
    # After Sphinx's own figure numbering, which also runs on env-get-updated (priority 500).
    app.connect("env-get-updated", renumber_per_page, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
