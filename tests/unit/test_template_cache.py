"""Compiled templates kept between builds (``plugin.TemplateCache``): reused when
nothing changed, never across a change of the setting that compiled them."""

from __future__ import annotations

from jinja2 import DictLoader, Environment

from livenotes.plugin import TemplateCache

TEMPLATES = {"note.html": "<p>{{ title }}</p>"}


def _render(folder, **settings) -> str:
    env = Environment(loader=DictLoader(TEMPLATES), **settings)
    env.bytecode_cache = TemplateCache(str(folder))
    return env.get_template("note.html").render(title="<b>x</b>")


def test_a_template_compiled_without_escaping_is_not_reused_with_it(tmp_path):
    """Jinja bakes autoescaping into the compiled code: a key without it would hand
    an escaping build the code of a non-escaping one, and front matter would be HTML."""
    assert _render(tmp_path, autoescape=False) == "<p><b>x</b></p>"
    assert _render(tmp_path, autoescape=True) == "<p>&lt;b&gt;x&lt;/b&gt;</p>"
    assert _render(tmp_path, autoescape=lambda name: name == "note.html") == (
        "<p>&lt;b&gt;x&lt;/b&gt;</p>"
    )
    assert len(list(tmp_path.iterdir())) == 2  # two settings, two compiled versions


def test_an_unchanged_template_is_loaded_not_compiled(tmp_path, monkeypatch):
    _render(tmp_path, autoescape=True)
    compiled = []
    real = Environment.compile

    def counting(self, *args, **kwargs):
        compiled.append(args)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Environment, "compile", counting)
    assert _render(tmp_path, autoescape=True) == "<p>&lt;b&gt;x&lt;/b&gt;</p>"
    assert compiled == []
    TEMPLATES["note.html"] = "<p>{{ title }}!</p>"  # an edited template compiles again
    try:
        assert _render(tmp_path, autoescape=True) == "<p>&lt;b&gt;x&lt;/b&gt;!</p>"
    finally:
        TEMPLATES["note.html"] = "<p>{{ title }}</p>"
    assert len(compiled) == 1
