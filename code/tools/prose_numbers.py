"""Find numbers typed into a page's prose that copy (or nearly copy) one of its outputs.

    python code/tools/prose_numbers.py [PAGE.md ...]   # all notebook pages by default

A number that a sentence quotes from a computation on the page must come from the cell with
``dlcourse.glue`` and ``{glue:text}``, so that the prose can never disagree with the output.
This tool reads the page's prose (MyST markdown, parsed with markdown-it-py as MyST-Parser
does, so code, math, roles such as glue references, link targets, labels and front matter are
left out) and the outputs of its executed twin ``<name>.ipynb`` (printed text, plain-text
results and HTML tables; images and glue records are ignored). A prose number is flagged when
an output number equals it, rounds to it at the digits shown (for two or more significant
digits: 0.84 for 0.8412, but 0.3 is not taken for 0.26), or lies within 2% of it. Numbers
written in the page's code (a learning rate of 0.1) are settings, not results: neither the
prose nor the outputs count them, and a printed integer is compared only with an integer.

What counts as a number in prose: decimals (0.84, 84.5%, 1.3e-3, 12.7 s) and integers with
four or more digits or a thousands separator (61,706). Small integers (layer counts, sizes),
years, round thousands (60,000), powers of two (4096), version and section numbers (3.4,
2.5.1), numbers after "Section", "Chapter", "Figure", "Table", "Eq." or "version", and a
heading's leading section number are not.

Deliberate cases (a textbook or paper figure that happens to equal an output) are listed in
``prose_numbers_allow.txt`` beside this file, one ``page: number: reason`` a line, the number
as typed in the prose. An entry whose number is no longer typed on the page is reported too.
Exit status 1 when anything is flagged.
"""

from __future__ import annotations

import html
import re
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import nbformat
from markdown_it.renderer import RendererHTML
from myst_parser.config.main import MdParserConfig
from myst_parser.parsers.mdit import create_md_parser

ROOT = Path(__file__).resolve().parents[2]
ALLOW = Path(__file__).with_name("prose_numbers_allow.txt")
RELATIVE = 0.02  # "close to": within 2% of the output's value

# A number: digits with optional thousands separators, further dotted parts (kept to reject
# versions), an exponent and a percent sign.
NUMBER = re.compile(
    r"(?<![\w.])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)*)"
    r"(?P<exp>[eE][-+−]?\d+)?(?P<pct>\s?%)?"
)
UNIT = re.compile(r"[a-zA-Zµ]{1,3}\b")  # 12.7s, 3.2ms, 1.5x, 4.2GB directly after a number
REFERENCE_WORD = re.compile(
    r"(?:\b(?:[Ss]ections?|[Cc]hapters?|[Ff]igs?\.?|[Ff]igures?|[Tt]ables?|[Ee]qs?\.|"
    r"[Ee]quations?|[Ss]ec\.|[Cc]h\.|[Vv]ersions?(?:\s+(?:before|after|since|from))?)|§)"
    r"\s*(?:\d+(?:\.\d+)*(?:\s*(?:,|and|or|to|-|–)\s*))*$"
)
HEADING_NUMBER = re.compile(r"^\s*\d+(?:\.\d+)*\.?\s")
URL = re.compile(r"\S+://\S+")
# Directives whose body is not prose; every other directive's body is parsed as markdown.
NOT_PROSE = {"code-cell", "code", "code-block", "sourcecode", "math", "literalinclude", "raw"}
NOT_PROSE_PREFIX = ("glue", "bibliography", "toctree", "tableofcontents")
SKIPPED_OUTPUT = ("application/papermill.record/", "image/")


@dataclass(frozen=True)
class Prose:
    line: int  # 1-based line in the page
    text: str  # the number as typed, e.g. "84.5%"
    value: Decimal
    percent: bool


@dataclass(frozen=True)
class Output:
    cell: int  # 1-based index of the code cell in the page
    text: str
    value: Decimal


@dataclass(frozen=True)
class Flag:
    page: Path
    prose: Prose
    output: Output
    exact: bool
    cell_line: int  # where the code cell starts in the page

    def __str__(self) -> str:
        how = "equals" if self.exact else "is within 2% of"
        return (
            f"{rel(self.page)}:{self.prose.line}: {self.prose.text} in prose {how} output "
            f"{self.output.text} of cell {self.output.cell} (line {self.cell_line})"
        )


def rel(page: Path) -> str:
    try:
        return str(page.resolve().relative_to(ROOT))
    except ValueError:
        return str(page)


def _parser():
    config = MdParserConfig(
        enable_extensions={"amsmath", "colon_fence", "dollarmath", "substitution"}
    )
    return create_md_parser(config, RendererHTML)


# -- numbers in prose ------------------------------------------------------------------


def _decimal(digits: str, exponent: str | None) -> Decimal:
    text = digits.replace(",", "") + (exponent or "").replace("−", "-")
    return Decimal(text)


def _prose_numbers(text: str, heading: bool) -> list[Prose]:
    """The numbers worth checking in one run of prose text (line numbers left at 0)."""
    text = URL.sub(lambda m: " " * len(m.group()), text)
    if heading:
        text = HEADING_NUMBER.sub(lambda m: " " * len(m.group()), text)
    found = []
    for m in NUMBER.finditer(text):
        digits, exponent, pct = m.group("num"), m.group("exp"), m.group("pct")
        after = text[m.end() :]
        if digits.count(".") > 1 or after[:1] == "," and after[1:2].isdigit():
            continue  # a version, a section number such as 3.4.1, or a list like 1,2,3
        if not pct and not exponent and UNIT.match(after) is None and after[:1].isalpha():
            continue  # part of a word (3D, 2nd)
        if REFERENCE_WORD.search(text[: m.start()]):
            continue  # Section 3.4, Figure 7.2, Eq. 3.1
        decimal = "." in digits or exponent
        plain = digits.replace(",", "")
        if not decimal:
            if "," not in digits and len(plain) < 4:
                continue  # a small integer: layer counts and sizes collide with everything
            if "," not in digits and 1900 <= int(plain) <= 2100:
                continue  # a year
            if len(plain.rstrip("0")) <= len(plain) - 3:
                continue  # a round thousand (60,000 images), a setting rather than a result
            if int(plain) & (int(plain) - 1) == 0:
                continue  # a power of two (1024, 4096): a width or batch size of the design
        found.append(Prose(0, m.group().strip(), _decimal(digits, exponent), bool(pct)))
    return found


def prose_numbers(source: str) -> list[Prose]:
    """Numbers in the prose of MyST markdown ``source`` with their 1-based line numbers."""
    return _numbers_in(_parser(), source, 0)


def _numbers_in(md, source: str, offset: int) -> list[Prose]:
    found: list[Prose] = []
    heading = False
    for token in md.parse(source):
        if token.type == "heading_open":
            heading = True
        elif token.type == "heading_close":
            heading = False
        elif token.type in ("fence", "colon_fence") and token.map:
            found += _directive_body(md, token, offset)
        elif token.type == "inline" and token.map:
            found += _inline_numbers(token, offset + token.map[0], heading, source)
    return found


def code_cell_lines(source: str) -> list[int]:
    """The 1-based line of each ``{code-cell}`` of a page, in order."""
    return [
        t.map[0] + 1
        for t in _parser().parse(source)
        if t.type == "fence" and t.info.strip().startswith("{code-cell}")
    ]


def _directive_body(md, token, offset: int) -> list[Prose]:
    """The prose inside a directive such as ``{note}`` or ``{exercise}``, options left out."""
    match = re.match(r"\{([^}]+)\}", token.info.strip())
    if not match:
        return []  # a plain code fence
    name = match.group(1)
    if name in NOT_PROSE or name.startswith(NOT_PROSE_PREFIX):
        return []
    lines = token.content.split("\n")
    skip = 0
    if lines and lines[0].strip() == "---":  # YAML options block
        end = next((i for i, s in enumerate(lines[1:], 1) if s.strip() == "---"), 0)
        skip = end + 1
    while skip < len(lines) and re.match(r"^:[\w-]+:", lines[skip]):
        skip += 1
    body = "\n".join(lines[skip:])
    return _numbers_in(md, body, offset + token.map[0] + 1 + skip)


def _inline_numbers(token, first_line: int, heading: bool, source: str) -> list[Prose]:
    """Numbers in the text children of an inline token, each with the line it is typed on."""
    lines = source.split("\n")[token.map[0] : token.map[1]]
    found = []
    cursor = 0
    for child in token.children or []:
        if child.type != "text":
            continue  # code, math, roles (glue references), links' targets, HTML
        for prose in _prose_numbers(child.content.replace("\n", " "), heading):
            typed = re.compile(rf"(?<![\w.]){re.escape(prose.text)}")
            cursor = next((i for i in range(cursor, len(lines)) if typed.search(lines[i])), cursor)
            found.append(Prose(first_line + cursor + 1, prose.text, prose.value, prose.percent))
    return found


# -- numbers in outputs ----------------------------------------------------------------

OUTPUT_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)*(?:[eE][-+]?\d+)?")
CODE_NUMBER = re.compile(r"(?<![\w.])\d[\d_]*(?:\.\d*)?(?:[eE][-+]?\d+)?")


def output_texts(cell) -> list[str]:
    """What a reader sees of a code cell's outputs as text (HTML tables without tags)."""
    texts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            texts.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            data = output.get("data", {})
            if all(key.startswith(SKIPPED_OUTPUT) for key in data):
                continue
            if "text/html" in data:
                texts.append(html.unescape(re.sub(r"<[^>]+>", " ", data["text/html"])))
            elif "text/plain" in data:
                texts.append(data["text/plain"])
    return texts


def code_literals(nb) -> set[Decimal]:
    """The numbers written in the code cells: settings such as a learning rate of 0.1."""
    found = set()
    for cell in nb.cells:
        if cell.cell_type == "code":
            for m in CODE_NUMBER.finditer(cell.source):
                found.add(Decimal(m.group().replace("_", "")))
    return found


def output_numbers(nb) -> list[Output]:
    """The numbers the code cells print, settings echoed from the code left out."""
    settings = code_literals(nb)
    found = []
    code = [c for c in nb.cells if c.cell_type == "code"]
    for index, cell in enumerate(code, 1):
        for text in output_texts(cell):
            for m in OUTPUT_NUMBER.finditer(text.replace(",", "")):
                if m.group().count(".") > 1:
                    continue  # a version such as 2.5.1
                value = Decimal(m.group())
                if value not in settings:
                    found.append(Output(index, m.group(), value))
    return found


# -- comparing -------------------------------------------------------------------------


def _shown_exponent(prose: Prose) -> int:
    """The exponent of the last digit the prose shows (0.84 -> -2, 61,706 -> 0)."""
    return prose.value.as_tuple().exponent


def _match(prose: Prose, output: Output) -> bool | None:
    """True: the output rounds to the prose number; False: within 2%; None: no match."""
    printed_integer = "." not in output.text and "e" not in output.text.lower()
    if printed_integer and ("." in prose.text or "e" in prose.text.lower()):
        return None  # a printed count or shape is no source of a decimal in prose
    candidates = [prose.value]
    if prose.percent:
        candidates.append(prose.value / 100)
    for value in candidates:
        if output.value == value:
            return True
        exponent = _shown_exponent(prose) - (2 if value is not prose.value else 0)
        quantum = Decimal(1).scaleb(exponent)
        if len(prose.value.as_tuple().digits) > 1 and abs(output.value - value) <= quantum / 2:
            return True  # rounds to the digits shown (one digit, 0.3, would span 0.25-0.35)
        if value and abs(output.value - value) <= Decimal(str(RELATIVE)) * abs(value):
            return False
    return None


def check_page(page: Path) -> list[Flag]:
    """The numbers in the prose of ``page`` that copy an output of its twin beside it."""
    twin = page.with_suffix(".ipynb")
    if not twin.exists():
        raise FileNotFoundError(
            f"{rel(page)} has no executed twin {twin.name}: run `make notebooks`"
        )
    nb = nbformat.read(twin, as_version=4)
    outputs = output_numbers(nb)
    settings = code_literals(nb)
    cells = code_cell_lines(page.read_text())
    flags = []
    for prose in prose_numbers(page.read_text()):
        if prose.value in settings or not prose.value:
            continue  # prose describing the code's settings (a learning rate of 0.1)
        matches = [(m, o) for o in outputs if (m := _match(prose, o)) is not None]
        if matches:
            exact, output = next(((m, o) for m, o in matches if m), matches[0])
            line = cells[output.cell - 1] if output.cell <= len(cells) else 0  # a stale twin
            flags.append(Flag(page, prose, output, exact, line))
    return flags


def read_allow(path: Path = ALLOW) -> dict[tuple[str, str], str]:
    """``page: number: reason`` lines (``#`` starts a comment) as {(page, number): reason}."""
    allowed = {}
    if not path.exists():
        return allowed
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [p.strip() for p in line.split(":", 2)]
        if len(parts) != 3 or not all(parts):
            raise ValueError(
                f"{path}:{n}: {line!r} is not 'page: number: reason' "
                "(e.g. 'book/ch07_cnn/lenet.md: 0.91: the textbook's accuracy')"
            )
        allowed[(parts[0], parts[1])] = parts[2]
    return allowed


def check(pages: list[Path], allow_path: Path = ALLOW) -> list[str]:
    """Every problem in ``pages``: flagged numbers and allow-list entries that match nothing."""
    allowed = read_allow(allow_path)
    problems = [
        f"{allow_path.name}: {name}: no such page (write it as book/<chapter>/<name>.md)"
        for name, _ in allowed
        if not (ROOT / name).is_file() and not Path(name).is_file()
    ]
    for page in pages:
        flags = check_page(page)
        problems += [str(f) for f in flags if (rel(page), f.prose.text) not in allowed]
        # An entry stays while its number is typed on the page: whether a deliberate figure
        # happens to be near an output can change from run to run.
        text = page.read_text()
        problems += [
            f"{allow_path.name}: {name}: {number}: is no longer typed on the page; remove the entry"
            for name, number in allowed
            if name == rel(page) and not re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", text)
        ]
    return problems


def main(argv: list[str]) -> int:
    if argv:
        pages = [Path(a).resolve() for a in argv]
        for page in pages:
            if page.suffix != ".md" or not page.exists():
                raise SystemExit(f"{page}: give a page of the book, book/<chapter>/<name>.md")
    else:
        sys.path.insert(0, str(Path(__file__).parent))
        import pages as pages_tool  # code/tools/pages.py

        pages = pages_tool.notebook_pages()
    problems = check(pages)
    print("\n".join(problems) or f"no hand-typed output numbers in {len(pages)} page(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
