"""Whatever bytes a note holds, the checks answer with problem lines, never an exception.

Hypothesis writes notes from fragments that matter to the parsers (front matter fences,
YAML syntax, demo fences, HTML and Markdown punctuation, odd bytes) and runs both stages
on each: the scan of the files and the rendered-HTML check.
"""

from __future__ import annotations

import re

import markdown
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livenotes import frontmatter as fm
from livenotes.content import check_html
from livenotes.demos import find_embeds

FRAGMENTS = [
    "---\n",
    "...\n",
    "title: x\n",
    "speakers:\n  - name: A\n",
    "order: 1\n",
    "date: 2024-05-01\n",
    "&a ",
    "*a ",
    "<<: ",
    "? ",
    ": ",
    "- ",
    "[",
    "]",
    "{",
    "}",
    "!!python/name:os.system ",
    "'",
    '"',
    "\\",
    "\t",
    "\n",
    "\r\n",
    "\r",
    "\f",
    "\u2028",
    "\u202e",
    "\x00",
    "\ufeff",
    "```demo\n",
    "```\n",
    "````\n",
    "~~~\n",
    "name: faulty\n",
    "params: {limit: 9}\n",
    "<script>",
    "</script>",
    "<img src=x onerror=y>",
    "<a href='javascript:1'>",
    "<svg>",
    "[x](javascript:1)",
    "![i](//h/x.png)",
    "{: onclick=x }",
    "<!--",
    "-->",
    "<style>",
    "&#106;",
    "&lt;",
    "<div markdown>",
    "</div>",
    "#",
    "*",
    "_",
    "`",
    "|",
    ">",
    "99999999999999999999",
]
BYTES = (
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), max_size=40)
    .map("".join)
    .map(lambda text: text.encode("utf-8", "surrogatepass"))
)
NOISE = st.binary(max_size=200)
LINE = re.compile(r"^docs/x\.md:\d+: \S.*$")
RENDER = markdown.Markdown(extensions=["attr_list", "md_in_html", "pymdownx.superfences"])


def _check(data: bytes) -> list[fm.Problem]:
    text, problem = fm.decode("docs/x.md", data)
    if problem:
        return [problem]
    source, problems = fm.read_source("docs/x.md", text)
    problems += fm.check_fields(source, fm.TALK_FIELDS, "talk note")
    problems += find_embeds(source.path, source.body, source.body_line)[1]
    rendered = RENDER.reset().convert(source.body)
    return problems + check_html(source.path, rendered, source.body, source.body_line)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(BYTES, NOISE))
def test_any_note_gets_problem_lines_not_an_exception(data):
    for problem in _check(data):
        assert LINE.match(str(problem)), str(problem)
        assert "\n" not in problem.message
        assert problem.line >= 1
