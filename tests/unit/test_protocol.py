"""The worker protocol is written once, in messages.js: the page and the worker use its
names, never the strings, and every request has a handler on the worker's side."""

from __future__ import annotations

import re

import demokit
from tests.conftest import ROOT

ASSETS = ROOT / "livenotes/theme/assets/livenotes"


def _enum(name: str) -> dict[str, str]:
    text = (ASSETS / "messages.js").read_text(encoding="utf-8")
    body = re.search(rf"export const {name} = Object\.freeze\(\{{(.*?)\}}\);", text, re.S)
    assert body, name
    return dict(re.findall(r'(\w+): "([a-z]+)"', body.group(1)))


def test_every_request_has_a_handler_in_the_worker():
    worker = (ASSETS / "worker.js").read_text(encoding="utf-8")
    handled = set(re.findall(r"\[RequestType\.(\w+)\]:", worker))
    assert handled == set(_enum("RequestType"))


def test_no_message_type_is_spelt_out_elsewhere():
    types = set(_enum("RequestType").values()) | set(_enum("Reply").values())
    types |= set(_enum("Notice").values())
    for name in ("demos.js", "protocol.js", "worker.js"):
        code = "\n".join(
            line
            for line in (ASSETS / name).read_text(encoding="utf-8").splitlines()
            if not line.lstrip().startswith(("//", "*", "/*"))
        )
        for literal in re.findall(r'request\(\s*"(\w+)"|type: "(\w+)"|type === "(\w+)"', code):
            assert not set(literal) & types, (name, literal)


def test_the_widget_takes_its_seed_range_from_the_kit():
    demos = (ASSETS / "demos.js").read_text(encoding="utf-8")
    assert "this.spec.seeds" in demos and "seed >= 0" not in demos
    assert (demokit.SEED_MIN, demokit.SEED_MAX) == (0, 2**32 - 1)
