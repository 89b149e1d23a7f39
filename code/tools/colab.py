"""Turn a page's MyST markdown into plain notebook markdown for its twin (Colab, Jupyter).

The website renders MyST; Colab and Jupyter render only CommonMark with math. So the twin's
markdown cells are rewritten: labels dropped, cross-references become links to the published
site, citations become author-year links to the references page, exercises become numbered
bold paragraphs, solutions become headed sections, admonitions become quote blocks, included
source files are inlined as code blocks, and relative images point at the repository.
The page stays the single source: this runs whenever a twin is written.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w-]+)\}[ \t]*(?P<arg>.*)$")
ROLE = re.compile(r"\{(?P<role>[\w:-]+)\}`(?P<text>[^`]*)`")
LABEL_LINE = re.compile(r"^\(([\w-]+)\)=\s*$")
# What must never reach a twin's markdown (a test checks every twin for these).
MYST_ONLY = re.compile(r"^(`{3,}|:{3,})\{|\{[\w:-]+\}`|^\([\w-]+\)=\s*$", re.MULTILINE)


@dataclass
class Context:
    """What the rewrite needs to know about the whole book."""

    site_url: str  # e.g. https://org.github.io/repo/  (ends with /)
    raw_url: str  # e.g. https://raw.githubusercontent.com/org/repo/main/
    root: Path  # repository root
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)  # label -> (html, title)
    citations: dict[str, str] = field(default_factory=dict)  # bibtex key -> "Author et al., 2023"
    # The site numbers exercises through the whole book, in reading order; so do the twins.
    exercises_before: dict[Path, int] = field(default_factory=dict)

    def page_url(self, page: Path) -> str:
        return self.site_url + str(page.relative_to(self.root).with_suffix(".html"))


def collect_labels(pages: list[Path], root: Path) -> dict[str, tuple[str, str]]:
    """Map every `(label)=` to the page that defines it and the heading that follows it."""
    labels = {}
    for page in pages:
        lines = page.read_text().splitlines()
        for i, line in enumerate(lines):
            match = LABEL_LINE.match(line)
            if match:
                heading = next((h.lstrip("# ").strip() for h in lines[i + 1 :] if h.strip()), "")
                rel = str(page.relative_to(root).with_suffix(".html"))
                labels[match.group(1)] = (f"{rel}#{match.group(1)}", heading)
    return labels


def count_exercises(pages: list[Path]) -> dict[Path, int]:
    """How many exercises come before each page, in reading order."""
    before, total = {}, 0
    for page in pages:
        before[page] = total
        total += len(re.findall(r"^(`{3,}|:{3,})\{exercise\}", page.read_text(), re.M))
    return before


def collect_citations(bibfile: Path) -> dict[str, str]:
    """Map bibtex keys to 'Surname et al., year' (enough for a link text)."""
    citations = {}
    for entry in re.split(r"\n@", "\n" + bibfile.read_text())[1:]:
        key = entry[entry.index("{") + 1 : entry.index(",")].strip()
        author = re.search(r"author\s*=\s*\{(.+?)\},?\n", entry, re.S)
        year = re.search(r"year\s*=\s*\{?(\d{4})", entry)
        surname = author.group(1).split(",")[0].strip("{} ") if author else key
        many = author and " and " in author.group(1)
        citations[key] = f"{surname}{' et al.' if many else ''}, {year.group(1) if year else ''}"
    return citations


def pyobject_source(path: Path, name: str) -> str:
    """Source of a class, function or `Class.method` in a Python file (as :pyobject:)."""
    tree = ast.parse(path.read_text())
    node: ast.AST = tree
    for part in name.split("."):
        node = next(
            n
            for n in ast.iter_child_nodes(node)
            if isinstance(n, (ast.ClassDef, ast.FunctionDef)) and n.name == part
        )
    lines = path.read_text().splitlines()
    start = min([node.lineno] + [d.lineno for d in node.decorator_list])
    return "\n".join(lines[start - 1 : node.end_lineno])


class Rewriter:
    def __init__(self, ctx: Context, page: Path):
        self.ctx, self.page = ctx, page
        self.exercise_numbers: dict[str, int] = {}
        self.first_number = ctx.exercises_before.get(page, 0) + 1

    def role(self, match: re.Match) -> str:
        role, text = match.group("role"), match.group("text")
        if role in ("ref", "numref"):
            explicit = re.match(r"(.*?)\s*<([\w-]+)>$", text)
            label = explicit.group(2) if explicit else text
            if label not in self.ctx.labels:
                return text
            url, title = self.ctx.labels[label]
            return f"[{explicit.group(1) if explicit else title}]({self.ctx.site_url}{url})"
        if role == "doc":
            target = (self.page.parent / text).resolve()
            return (
                f"[{target.stem.replace('_', ' ')}]({self.ctx.site_url}"
                f"{target.relative_to(self.ctx.root)}.html)"
            )
        if role.startswith("cite"):
            refs = self.ctx.site_url + "book/appendix/references.html"
            names = "; ".join(self.ctx.citations.get(k.strip(), k) for k in text.split(","))
            return f"([{names}]({refs}))" if role == "cite:p" else f"[{names}]({refs})"
        if role == "math":
            return f"${text}$"
        return f"`{text}`" if role == "code" else text

    def directive(self, name: str, arg: str, options: dict, body: list[str]) -> list[str]:
        if name == "exercise":
            number = self.first_number + len(self.exercise_numbers)
            self.exercise_numbers[options.get("label", str(number))] = number
            title = f"**Exercise {number}.**" + (f" *{arg}*" if arg else "")
            text = self.rewrite(body)
            return [f"{title} {text[0]}" if text else title, *text[1:]]
        if name == "solution-start":
            number = self.exercise_numbers.get(arg.strip(), "")
            return [f"### Solution to exercise {number}"]
        if name == "solution-end":
            return []
        if name == "literalinclude":
            path = (self.page.parent / arg.strip()).resolve()
            source = (
                pyobject_source(path, options["pyobject"])
                if "pyobject" in options
                else path.read_text().rstrip()
            )
            where = str(path.relative_to(self.ctx.root))
            return [f"From `{where}`:", "", "```python", *source.splitlines(), "```"]
        if name in ("math",):
            return ["$$", *body, "$$"]
        if name in ("figure", "image"):
            return [f"![{' '.join(body).strip()}]({self.image_url(arg.strip())})"]
        # Admonitions (note, tip, warning, admonition, dropdown, ...): a quote block.
        title = arg or name.capitalize()
        return [
            f"> **{title}**",
            ">",
            *[f"> {line}" if line else ">" for line in self.rewrite(body)],
        ]

    def image_url(self, target: str) -> str:
        if re.match(r"https?://", target):
            return target
        path = (self.page.parent / target).resolve()
        return self.ctx.raw_url + str(path.relative_to(self.ctx.root))

    def rewrite(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        i = 0
        while i < len(lines):
            line = lines[i]
            fence = FENCE.match(line)
            if LABEL_LINE.match(line):
                i += 1
                continue
            if not fence:
                line = ROLE.sub(self.role, line)
                line = re.sub(
                    r"!\[([^\]]*)\]\((?!https?://)([^)]+)\)",
                    lambda m: f"![{m.group(1)}]({self.image_url(m.group(2))})",
                    line,
                )
                out.append(line)
                i += 1
                continue
            closing = fence.group("fence")
            j, options = i + 1, {}
            while j < len(lines) and re.match(r"^:[\w-]+:", lines[j]):
                key, _, value = lines[j][1:].partition(":")
                options[key] = value.strip()
                j += 1
            k = j
            while k < len(lines) and lines[k].strip() != closing:
                k += 1
            body = lines[j:k]
            while body and not body[0].strip():
                body = body[1:]
            out.extend(self.directive(fence.group("name"), fence.group("arg"), options, body))
            i = k + 1
        return out


def rewrite_markdown(source: str, ctx: Context, page: Path, rewriter: Rewriter) -> str:
    text = "\n".join(rewriter.rewrite(source.splitlines()))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def colabify(nb, ctx: Context, page: Path):
    """Rewrite the markdown cells of notebook ``nb`` (made from ``page``) in place."""
    rewriter = Rewriter(ctx, page)
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = rewrite_markdown(cell.source, ctx, page, rewriter)
            if not cell.source:
                continue
        cells.append(cell)
    nb.cells = cells
    first = next(c for c in nb.cells if c.cell_type == "markdown")
    title, _, rest = first.source.partition("\n")
    banner = (
        f"*A page of the COSE474 course book. Read it with all outputs on the "
        f"[website]({ctx.page_url(page)}); run it here cell by cell.*"
    )
    first.source = f"{title}\n\n{banner}\n{rest}".rstrip()
    return nb
