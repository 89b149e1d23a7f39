"""Turn a page's MyST markdown into plain notebook markdown for its twin (Colab, Jupyter).

The website renders MyST; Colab and Jupyter render only CommonMark with math. So the twin's
markdown cells are rewritten: labels and comments dropped, cross-references become links to
the published site, citations become author-year links to the references page, glued
numbers are written in, exercises become numbered bold paragraphs, each solution becomes a
folded section under its own heading, admonitions become quote blocks, included source
files are inlined as code blocks, and relative images point at the repository.

The markdown is parsed with MyST's own markdown-it parser (myst-parser, with the book's
``myst_enable_extensions``); every MyST construct found in the token stream is replaced in
the cell's source text by its plain rendering, so everything else stays byte for byte.
The page stays the single source: this runs whenever a twin is written.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import nbformat
import yaml
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from myst_nb.core.variables import format_plain_text
from myst_parser.config.main import MdParserConfig
from myst_parser.parsers.mdit import create_md_parser
from pybtex.database import parse_file
from pybtex.plugin import find_plugin

ADMONITIONS = {
    "admonition", "attention", "caution", "danger", "dropdown", "error", "hint",
    "important", "note", "seealso", "tip", "warning",
}  # fmt: skip
# Directives that only the website can show: the twin says so and links to the page.
SITE_ONLY = {
    "nb-exec-table": "the table of this build's executions",
    "tableofcontents": "the list of sections",
    "bibliography": "the list of references",
}
SOLUTION_ID = "solution-"  # + the exercise's number: the id of a solution's heading cell
GLUE_ROLES = {"glue", "glue:", "glue:any", "glue:text", "glue:md"}
UNFOLD = (
    "*Folded so that you try the exercise first. To unfold the solution: in Colab, click the "
    "arrow ▸ left of this heading; in JupyterLab, click the arrow left of the heading or the "
    '"… cells hidden" button under it.*'
)


@dataclass
class Context:
    """What the rewrite needs to know about the whole book."""

    site_url: str  # e.g. https://org.github.io/repo/  (ends with /)
    raw_url: str  # e.g. https://raw.githubusercontent.com/org/repo/main/
    root: Path  # repository root
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)  # label -> (html, title)
    citations: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (names, year)
    myst_extensions: tuple[str, ...] = ("amsmath", "colon_fence", "dollarmath")

    def page_url(self, page: Path) -> str:
        return self.site_url + str(page.relative_to(self.root).with_suffix(".html"))

    @cached_property
    def md(self) -> MarkdownIt:
        return myst_parser(self.myst_extensions)


def myst_parser(extensions=("amsmath", "colon_fence", "dollarmath")) -> MarkdownIt:
    """markdown-it configured as MyST parses the book's pages."""
    return create_md_parser(MdParserConfig(enable_extensions=set(extensions)), RendererHTML)


def directive_of(token) -> tuple[str, str] | None:
    """(name, argument) of a ```{name} argument fence or :::{name} block, else None."""
    if token.type not in ("fence", "colon_fence"):
        return None
    match = re.match(r"\{([^}\s]+)\}\s*(.*)$", token.info.strip())
    return (match.group(1), match.group(2).strip()) if match else None


def split_options(content: str) -> tuple[dict[str, str], str]:
    """A directive's options (``:key: value`` lines or a ``---`` YAML block) and its body."""
    lines = content.splitlines()
    options: dict[str, str] = {}
    if lines and lines[0].strip() == "---":
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
        options = {k: str(v) for k, v in (yaml.safe_load("\n".join(lines[1:end])) or {}).items()}
        lines = lines[end + 1 :]
    else:
        while lines and (option := re.match(r"^:([\w-]+):\s*(.*)$", lines[0])):
            options[option.group(1)] = option.group(2).strip()
            lines = lines[1:]
    return options, "\n".join(lines).strip("\n")


def exercise_labels(md: MarkdownIt, text: str) -> list[str]:
    """The labels of the exercises in ``text``, in order ('' for one without a label)."""
    found = []
    for token in md.parse(text):
        directive = directive_of(token)
        if directive and directive[0] == "exercise":
            found.append(split_options(token.content)[0].get("label", ""))
    return found


def collect_labels(pages: list[Path], root: Path, md: MarkdownIt | None = None):
    """Map every `(label)=` to the page that defines it and the heading that follows it,
    and every exercise label to its page and "Exercise N" (numbered within its page)."""
    md = md or myst_parser()
    labels = {}
    for page in pages:
        text = page.read_text()
        html = str(page.relative_to(root).with_suffix(".html"))
        tokens = md.parse(text)
        for i, token in enumerate(tokens):
            if token.type == "myst_target":
                heading = next((t.content for t in tokens[i + 1 : i + 3] if t.type == "inline"), "")
                labels[token.content] = (f"{html}#{token.content}", heading)
        for number, label in enumerate(exercise_labels(md, text), 1):
            if label:
                labels[label] = (f"{html}#{label}", f"Exercise {number}")
    return labels


def collect_citations(bibfile: Path) -> dict[str, tuple[str, str]]:
    """Map BibTeX keys to (names, year) as the site's author-year style writes them:
    'Zhang', 'Zhang and Lipton' or 'Zhang et al.'."""
    last = find_plugin("pybtex.style.names", "last")()
    text_backend = find_plugin("pybtex.backends", "text")()  # once: each lookup scans plugins
    citations = {}
    for key, entry in parse_file(str(bibfile)).entries.items():
        persons = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [last.format(p, True).format().render(text_backend) for p in persons]
        if names[-1:] == ["others"]:  # BibTeX's "and others": more authors than listed
            names += ["others"]
        if not names:
            text = entry.fields.get("title", key)
        elif len(names) <= 2:
            text = " and ".join(names)
        else:
            text = f"{names[0]} et al."
        citations[key] = (text, entry.fields.get("year", "n.d."))
    return citations


def pyobject_source(path: Path, name: str) -> str:
    """Source of a class, function or `Class.method` in a Python file (as :pyobject:)."""
    tree = ast.parse(path.read_text())
    node: ast.AST = tree
    for part in name.split("."):
        node = next(
            (
                n
                for n in ast.iter_child_nodes(node)
                if isinstance(n, (ast.ClassDef, ast.FunctionDef)) and n.name == part
            ),
            None,
        )
        if node is None:
            raise ValueError(f"{path} has no {name!r} (from a literalinclude :pyobject:)")
    lines = path.read_text().splitlines()
    start = min([node.lineno] + [d.lineno for d in node.decorator_list])
    return "\n".join(lines[start - 1 : node.end_lineno])


def glue_values(nb) -> dict[str, dict]:
    """Take the values that ``dlcourse.glue`` recorded out of ``nb``'s code cells.

    myst-nb's glue shows up as display outputs carrying ``metadata.scrapbook``; in Colab,
    where myst-nb is not installed, those outputs never appear, so the twin drops them. The
    values are kept in the twin's metadata, so that a refresh (which reuses the twin's
    outputs) can still write them into the prose."""
    values = dict(nb.metadata.get("dlcourse", {}).get("glue", {}))
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.get("outputs", []):
            scrapbook = output.get("metadata", {}).get("scrapbook")
            if scrapbook is None:
                kept.append(output)
                continue
            prefix = len(scrapbook.get("mime_prefix", ""))
            data = {mime[prefix:]: value for mime, value in output.get("data", {}).items()}
            values[scrapbook["name"]] = {
                mime: value if mime.startswith("text/") else "" for mime, value in data.items()
            }
        cell.outputs = kept
    return values


class Converter:
    """Rewrites the markdown of one page; holds the page's exercise numbers and glue."""

    def __init__(self, ctx: Context, page: Path, glue: dict | None = None):
        self.ctx, self.page, self.md = ctx, page, ctx.md
        self.glue = glue if glue is not None else {}
        self.exercise_numbers: dict[str, int] = {}
        self.exercises = 0

    def fail(self, message: str):
        raise ValueError(f"{self.page}: {message}")

    # -- inline ----------------------------------------------------------------------

    def role(self, name: str, text: str) -> str:
        site = self.ctx.site_url
        if name in ("ref", "numref"):
            explicit = re.match(r"(.*?)\s*<([^<>]+)>$", text, re.S)
            label = explicit.group(2) if explicit else text
            if label in self.exercise_numbers:  # an exercise of this page
                url = f"{self.ctx.page_url(self.page).removeprefix(site)}#{label}"
                title = f"Exercise {self.exercise_numbers[label]}"
            elif label in self.ctx.labels:
                url, title = self.ctx.labels[label]
            else:
                self.fail(f"{{{name}}}`{text}` names no label of the book")
            return f"[{explicit.group(1) if explicit else title}]({site}{url})"
        if name == "doc":
            explicit = re.match(r"(.*?)\s*<([^<>]+)>$", text, re.S)
            target = explicit.group(2) if explicit else text
            path = (self.page.parent / target).with_suffix(".md").resolve()
            if not path.exists():
                self.fail(f"{{doc}}`{text}`: there is no page {path}")
            title = explicit.group(1) if explicit else self.title_of(path)
            return f"[{title}]({site}{path.relative_to(self.ctx.root).with_suffix('.html')})"
        if name in ("cite", "cite:p", "cite:t"):
            return self.cite(name, text)
        if name in GLUE_ROLES:
            return self.glued(name, text)
        if name == "math":
            return f"${text}$"
        if name in ("code", "literal"):
            return f"`{text}`"
        if name in ("sub", "sup"):
            return f"<{name}>{text}</{name}>"
        if name in ("abbr", "term", "kbd", "emphasis", "strong"):
            return {"emphasis": f"*{text}*", "strong": f"**{text}**"}.get(name, text)
        self.fail(f"the role {{{name}}} has no plain-Markdown form; add one to colab.py")

    def title_of(self, path: Path) -> str:
        heading = next((t for t in self.md.parse(path.read_text()) if t.type == "inline"), None)
        return heading.content if heading else path.stem.replace("_", " ")

    def cite(self, name: str, text: str) -> str:
        refs = self.ctx.site_url + "book/appendix/references.html"
        cited = []
        for key in (k.strip() for k in text.split(",")):
            if key not in self.ctx.citations:
                self.fail(f"citation key {key!r} is not in the bibliography")
            cited.append(self.ctx.citations[key])
        if name == "cite:t":
            return ", ".join(f"[{names} ({year})]({refs})" for names, year in cited)
        return f"([{'; '.join(f'{names}, {year}' for names, year in cited)}]({refs}))"

    def glued(self, name: str, text: str) -> str:
        if name == "glue:text":
            key, _, spec = text.rpartition(":") if ":" in text else (text, "", "s")
        else:
            key, spec = text, None
        if "::" in key:
            self.fail(f"{{{name}}}`{text}`: glue from another page cannot be written in")
        if key not in self.glue:
            self.fail(
                f"glue reference {key!r} has no value in the executed notebook: glue it in a "
                f'code cell (dlcourse.glue("{key}", value)) and execute the page again'
            )
        data = self.glue[key]
        if name == "glue:md" and "text/markdown" in data:
            return data["text/markdown"]
        rich = [m for m in data if m.startswith("image/") or m == "text/html"]
        if name != "glue:text" and rich:
            self.fail(f"glue {key!r} is {rich[0]}, which a twin's prose cannot show")
        if "text/plain" not in data:
            self.fail(f"glue {key!r} has no text/plain value")
        if spec is None:
            return data["text/plain"]
        try:
            return format_plain_text(data["text/plain"], spec)
        except Exception as exc:  # as myst-nb: any formatting failure
            self.fail(f"glue {key!r}: cannot format {data['text/plain']!r} with {spec!r}: {exc}")

    def image_url(self, target: str) -> str:
        if re.match(r"[a-z][a-z0-9+.-]*:", target):
            return target
        path = (self.page.parent / target).resolve()
        return self.ctx.raw_url + str(path.relative_to(self.ctx.root))

    def inline(self, token, text: str, begin: int, end: int, cursor: int, edits: list) -> int:
        """Record replacements for the MyST roles and relative images of an inline token,
        finding each in ``text[begin:end]`` in order (``cursor`` skips what came before)."""
        cursor = max(cursor, begin)
        for child in token.children or []:
            if child.type == "myst_role":
                name = child.meta["name"]
                pattern = r"\{" + re.escape(name) + r"\}(`+)" + re.escape(child.content) + r"\1"
                found = re.compile(pattern).search(text, cursor, end)
                if not found:
                    self.fail(f"cannot locate {{{name}}}`{child.content}` in its source")
                edits.append((found.start(), found.end(), self.role(name, child.content)))
                cursor = found.end()
            elif child.type == "code_inline":
                run = re.compile(r"(?<!`)" + re.escape(child.markup) + r"(?!`)")
                opening = run.search(text, cursor, end)
                closing = opening and run.search(text, opening.end(), end)
                cursor = closing.end() if closing else cursor
            elif child.type in ("math_inline", "math_inline_double"):
                at = text.find(child.markup + child.content, cursor, end)
                cursor = at + len(child.markup) * 2 + len(child.content) if at >= 0 else cursor
            elif child.type == "image":
                src = child.attrGet("src")
                found = re.compile(r"\]\(\s*<?(" + re.escape(src) + ")").search(text, cursor, end)
                if self.image_url(src) != src:
                    if not found:
                        self.fail(f"cannot locate the image {src!r} in its source")
                    edits.append((found.start(1), found.end(1), self.image_url(src)))
                cursor = found.end() if found else cursor
        return cursor

    # -- blocks ----------------------------------------------------------------------

    def directive(self, name: str, arg: str, content: str) -> str:
        options, body = split_options(content)
        if name == "exercise":
            self.exercises += 1  # in order of appearance, as number_exercises counts them
            number = self.exercises
            title = f"**Exercise {number}.**" + (f" *{arg}*" if arg else "")
            text = self.convert(body)
            starts_paragraph = text and self.md.parse(text)[0].type == "paragraph_open"
            return f"{title} {text}" if starts_paragraph else f"{title}\n\n{text}".strip()
        if name == "literalinclude":
            unknown = set(options) - {"pyobject", "language"}
            if unknown:
                self.fail(f"literalinclude option(s) {sorted(unknown)} are not supported")
            path = (self.page.parent / arg).resolve()
            source = (
                pyobject_source(path, options["pyobject"])
                if "pyobject" in options
                else path.read_text().rstrip()
            )
            where = path.relative_to(self.ctx.root)
            language = options.get("language", "python")
            return f"From `{where}`:\n\n```{language}\n{source}\n```"
        if name in ("code-block", "code", "sourcecode"):
            return f"```{arg}\n{body}\n```"
        if name == "math":
            return f"$$\n{body}\n$$"
        if name in ("figure", "image"):
            return f"![{self.convert(body) if body else ''}]({self.image_url(arg)})"
        if name in SITE_ONLY:
            url = self.ctx.page_url(self.page)
            return f"*Here the website shows {SITE_ONLY[name]}: [open the page]({url}).*"
        if name in ADMONITIONS:
            title = arg or name.capitalize()
            lines = self.convert(body).splitlines()
            return "\n".join([f"> **{title}**", ">", *(f"> {x}" if x else ">" for x in lines)])
        if name in ("solution-start", "solution-end"):
            self.fail(f"{{{name}}} must stand at the top level of the page, not inside a block")
        self.fail(f"the directive {{{name}}} has no plain-Markdown form; add one to colab.py")

    def segments(self, text: str) -> list[tuple[str, str]]:
        """``text`` converted, cut at solution markers: ("text", markdown),
        ("solution-start", label) and ("solution-end", "") in order."""
        lines = text.splitlines(keepends=True)
        starts = [0]
        for line in lines:
            starts.append(starts[-1] + len(line))
        edits: list[tuple[int, int, str]] = []
        marks: list[tuple[int, int, str, str]] = []
        cursor, block = 0, (0, len(lines))
        for token in self.md.parse(text):
            block = tuple(token.map) if token.map else block
            begin, end = starts[block[0]], starts[block[1]]
            directive = directive_of(token)
            if directive and directive[0] in ("solution-start", "solution-end"):
                if token.level:
                    self.fail(f"{{{directive[0]}}} must not be nested inside another block")
                marks.append((begin, end, directive[0], directive[1]))
            elif directive:
                indent = re.match(r"[ \t>]*", lines[block[0]]).group(0)
                rendered = self.directive(*directive, token.content)
                rendered = "".join(
                    indent + x if x.strip() else x for x in rendered.splitlines(True)
                )
                edits.append((begin, end, rendered + "\n"))
            elif token.type in ("myst_target", "myst_line_comment", "front_matter"):
                edits.append((begin, end, ""))
            elif token.type in ("substitution_block", "myst_block_break"):
                self.fail(f"{token.type} {token.content!r} has no plain-Markdown form")
            elif token.type == "inline":
                cursor = self.inline(token, text, begin, end, cursor, edits)
                for child in token.children or []:
                    if child.type == "substitution_inline":
                        self.fail(f"substitution {child.content!r} has no plain-Markdown form")
        pieces, position = [], 0
        for begin, end, kind, label in marks:
            pieces.append(("text", self.apply(text, edits, position, begin)))
            pieces.append((kind, label))
            position = end
        pieces.append(("text", self.apply(text, edits, position, len(text))))
        return [(kind, value) for kind, value in pieces if kind != "text" or value]

    def apply(self, text: str, edits: list, begin: int, end: int) -> str:
        """``text[begin:end]`` with the edits inside it applied, tidied."""
        out, position = [], begin
        for start, stop, replacement in sorted(e for e in edits if begin <= e[0] < end):
            out.append(text[position:start] + replacement)
            position = stop
        out.append(text[position:end])
        return self.tidy("".join(out))

    def tidy(self, text: str) -> str:
        """Runs of blank lines left by removed blocks become one (not inside code)."""
        lines = text.splitlines()
        code = set()
        for token in self.md.parse(text):
            if token.type in ("fence", "code_block", "colon_fence") and token.map:
                code.update(range(token.map[0] + 1, token.map[1]))
        kept = [
            line
            for i, line in enumerate(lines)
            if line.strip() or i in code or not (i > 0 and not lines[i - 1].strip())
        ]
        return "\n".join(kept).strip("\n")

    def convert(self, text: str) -> str:
        """``text`` converted; solution markers are not allowed here."""
        pieces = self.segments(text)
        if any(kind != "text" for kind, _ in pieces):
            self.fail("a solution's start or end lies inside another block")
        return "\n\n".join(value for _, value in pieces)

    def number_exercises(self, nb) -> None:
        """Number the page's exercises 1, 2, ... in order of appearance (as the site does)."""
        labels = [
            label
            for cell in nb.cells
            if cell.cell_type == "markdown"
            for label in exercise_labels(self.md, cell.source)
        ]
        self.exercise_numbers = {label: n for n, label in enumerate(labels, 1) if label}


def heading_levels(md: MarkdownIt, text: str) -> list[int]:
    return [int(t.tag[1]) for t in md.parse(text) if t.type == "heading_open"]


def starts_with_heading(md: MarkdownIt, text: str, level: int) -> bool:
    tokens = md.parse(text)
    return bool(tokens) and tokens[0].type == "heading_open" and int(tokens[0].tag[1]) <= level


class Folder:
    """Lays out the converted cells, putting each solution in a folded section."""

    def __init__(self, converter: Converter, nb):
        self.converter, self.md, self.nb = converter, converter.md, nb
        self.cells: list = []
        self.level = 1  # of the latest heading
        self.solution: tuple[int, int] | None = None  # (heading level, exercise number)
        self.after: int | None = None  # heading level that must follow a solution's end
        self.solution_number = 0  # of the solution that ended last

    def fail(self, message: str):
        self.converter.fail(message)

    def add_text(self, text: str, template) -> None:
        levels = heading_levels(self.md, text)
        if self.solution and any(level <= self.solution[0] for level in levels):
            self.fail(
                f"a heading inside the solution to exercise {self.solution[1]} would end its "
                f"folded section early; use a level below {self.solution[0]} or none"
            )
        self.check_after(text)
        cell = template if template is not None else nbformat.v4.new_markdown_cell()
        cell.source = text
        self.hide(cell)
        self.cells.append(cell)
        self.level = levels[-1] if levels else self.level

    def hide(self, cell) -> None:
        """Classic Jupyter's collapsible headings keep the folded cells marked hidden."""
        if self.solution:
            cell.metadata["hidden"] = True
        else:
            cell.metadata.pop("hidden", None)  # e.g. kept from an older twin

    def check_after(self, text: str | None) -> None:
        """What follows a solution starts a section of its own (or another solution), so
        that folding the solution does not fold it too."""
        if self.after is None:
            return
        if text is None or not starts_with_heading(self.md, text, self.after):
            self.fail(
                f"after the solution to exercise {self.solution_number}, the page goes on "
                f"without a heading of level {self.after} or higher, so the twin would fold "
                "it into the solution; start what follows with such a heading"
            )
        self.after = None

    def start_solution(self, label: str) -> None:
        if self.solution:
            self.fail(f"solution for {label!r} starts inside another solution")
        if self.after is not None:
            self.after = None  # another solution follows: it starts with its own heading
        numbers = self.converter.exercise_numbers
        if label not in numbers:
            self.fail(f"solution-start names {label!r}, which no exercise on this page has")
        level = min(self.level + 1, 6)
        number = numbers[label]
        cell_id = f"{SOLUTION_ID}{number}"
        cell = nbformat.v4.new_markdown_cell(
            f"{'#' * level} Solution to Exercise {number}\n\n{UNFOLD}",
            id=cell_id,
            metadata={
                "id": cell_id,
                "heading_collapsed": True,
                "jp-MarkdownHeadingCollapsed": True,
            },
        )
        self.cells.append(cell)
        self.solution = (level, number)

    def end_solution(self) -> None:
        if not self.solution:
            self.fail("solution-end without a solution-start before it")
        self.after, self.solution_number = self.solution
        self.solution = None

    def run(self) -> list:
        for cell in self.nb.cells:
            if cell.cell_type != "markdown":
                self.hide(cell)
                self.check_after(None)
                self.cells.append(cell)
                continue
            first = True
            for kind, value in self.converter.segments(cell.source):
                if kind == "text":
                    self.add_text(value, cell if first else None)
                    first = False
                elif kind == "solution-start":
                    self.start_solution(value)
                else:
                    self.end_solution()
        if self.solution:
            self.fail(f"the solution to exercise {self.solution[1]} has no solution-end")
        return self.cells


def is_solution_heading(cell) -> bool:
    return cell.cell_type == "markdown" and cell.get("id", "").startswith(SOLUTION_ID)


def colabify(nb, ctx: Context, page: Path):
    """Rewrite notebook ``nb`` (made from ``page``, executed) in place for its twin."""
    glue = glue_values(nb)
    converter = Converter(ctx, page, glue)
    converter.number_exercises(nb)
    nb.cells = Folder(converter, nb).run()
    folded = [c.id for c in nb.cells if is_solution_heading(c)]
    nb.metadata.setdefault("colab", {})["collapsed_sections"] = folded
    if glue:
        nb.metadata.setdefault("dlcourse", {})["glue"] = glue
    else:
        nb.metadata.pop("dlcourse", None)
    first = next(c for c in nb.cells if c.cell_type == "markdown")
    title, _, rest = first.source.partition("\n")
    banner = (
        f"*A page of the COSE474 course book. Read it with all outputs on the "
        f"[website]({ctx.page_url(page)}); run it here cell by cell.*"
    )
    first.source = f"{title}\n\n{banner}\n{rest}".rstrip()
    return nb


def leftover_myst(md: MarkdownIt, text: str) -> list[str]:
    """MyST syntax that a plain-Markdown reader would show as is: roles, directives,
    targets, comments and glue references (code spans and code blocks do not count)."""
    found = []
    for token in md.parse(text):
        if directive_of(token) or token.type == "colon_fence":
            found.append(f"{token.markup}{token.info}")
        elif token.type in ("myst_target", "myst_line_comment", "front_matter"):
            found.append(f"{token.type} {token.content!r}")
        for child in token.children or []:
            if child.type == "myst_role":
                found.append(f"{{{child.meta['name']}}}`{child.content}`")
            elif child.type == "text" and "{glue" in child.content:
                found.append(child.content)
    return found
