"""TextAnnotator end to end: selections in a real JupyterLab land as exact code-point spans.

The page counts UTF-16 units and snaps to the browser's grapheme clusters; Python stores
code points. Every span made in the page is checked with ``text[start:end]`` in Python.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from playwright.sync_api import Locator, Page

from .lab import Lab

TAXONOMY = """
name: text-e2e
version: 1
classes:
  - name: phrase
    color: "#1f77b4"
    hotkey: p
    geometries: {text: [text_span]}
    attributes:
      - {name: certain, type: bool, default: true}
  - name: entity
    color: "#d62728"
    hotkey: e
    geometries: {text: [text_span]}
  - name: face
    color: "#2ca02c"
    geometries: {video: [box], image: [box]}
  - name: formal
    color: "#9467bd"
    geometries: {text: [tag]}
link_types:
  - {name: refers_to, sources: [text_span], targets: [text_span]}
  - {name: speaks, sources: [text_span], targets: [box]}
"""

#: Text of the document item: combining marks, ZWJ emoji with a skin tone, a flag, CRLF,
#: a tab, Hebrew and Arabic, Devanagari, Hangul jamo, and markup that must stay text.
DOC = (
    "Café e\u0301te\u0301 — 👩🏽\u200d💻 codes in 🇫🇷!\r\n"
    "שלום עולם\tمرحبا بكم\r\n"
    "क्षत्रिय 한글 \u1100\u1161\u11a8 <img src=x onerror=alert(1)> done."
)

VTT = """WEBVTT

00:00:01.000 --> 00:00:02.500
<v Ana>Hello there.

00:00:03.000 --> 00:00:04.250
<v Ben>General Kenobi! 👋🏽
"""


def setup_code(store: str) -> str:
    return f"""
import accord as ac
from pathlib import Path
Path("talk.vtt").write_text({VTT!r}, encoding="utf-8")
tax = ac.Taxonomy.from_yaml('''{TAXONOMY}''')
s = ac.Session("{store}", taxonomy=tax, annotator="ana")
DOC = {DOC!r}
s.apply({{"type": "item.add", "item": {{"id": "doc", "meta": {{}}, "calibrations": {{}}}},
         "streams": [ac.Stream("doc", "text", "text", text=DOC).to_dict()]}})
s.add_item("talk", transcript="talk.vtt", clocks={{"transcript": ac.Clock(10.0, 1.0)}})
print("ok")
"""


@dataclass
class Annotator:
    """One TextAnnotator in the page."""

    root: Locator

    @property
    def page(self) -> Page:
        return self.root.page

    def wait_ready(self) -> Annotator:
        self.root.wait_for(timeout=30_000)
        self.page.wait_for_function(
            "(el) => el.dataset.ready === 'true'", arg=self.root.element_handle(), timeout=30_000
        )
        return self

    def data(self, key: str) -> str:
        return self.root.evaluate("(el, k) => el.dataset[k] ?? ''", key)

    def wait_data(self, key: str, value: str, timeout: float = 10) -> None:
        self.page.wait_for_function(
            "([el, k, v]) => (el.dataset[k] ?? '') === v",
            arg=[self.root.element_handle(), key, value],
            timeout=timeout * 1000,
        )

    def select_range(self, start: int, end: int) -> str | None:
        """The test hook: select code points [start, end) as a mouse would."""
        return self.root.evaluate("(el, [a, b]) => el.accordSelectRange(a, b)", [start, end])

    def char_rect(self, cp: int) -> dict:
        self.root.locator(".accord-ta-text").scroll_into_view_if_needed()
        rect = self.root.evaluate("(el, cp) => el.accordCharRect(cp)", cp)
        assert rect is not None and rect["width"] > 0, (cp, rect)
        return rect

    def mouse_select(self, start: int, last: int, *, rtl: bool = False) -> None:
        """A real mouse drag from the character at ``start`` to the end of the one at ``last``.

        Left-to-right text starts at a character's left edge, right-to-left at its right edge.
        """
        a, b = self.char_rect(start), self.char_rect(last)
        x0 = a["x"] + a["width"] - 1 if rtl else a["x"] + 1
        x1 = b["x"] + 1 if rtl else b["x"] + b["width"] - 1
        m = self.page.mouse
        m.move(x0, a["y"] + a["height"] / 2)
        m.down()
        m.move(x1, b["y"] + b["height"] / 2, steps=8)
        m.up()

    def click_char(self, cp: int) -> None:
        r = self.char_rect(cp)
        self.page.mouse.click(r["x"] + r["width"] / 2, r["y"] + r["height"] / 2)


def _start(lab: Lab, show: str) -> Annotator:
    store = f"e2e-{uuid.uuid4().hex[:8]}.accord"
    assert lab.run(setup_code(store)) == "ok"
    lab.run(f"ta = {show}\nta")
    root = lab.output_locator().locator(".accord-text-annotator")
    root.first.wait_for(timeout=30_000)
    return Annotator(root.first).wait_ready()


def _spans(lab: Lab) -> list[dict]:
    return lab.value(
        "[{'id': r.id, 'label': r.label, 'start': r.geometry['start'], 'end': r.geometry['end'],"
        " 'text': DOC[r.geometry['start']:r.geometry['end']]}"
        " for r in s.annotations.itertuples() if r.kind == 'text_span' and r.item == 'doc']"
    )


def test_selections_in_unicode_text_land_with_exact_code_point_offsets(lab: Lab) -> None:
    dialogs: list[str] = []
    lab.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    ta = _start(lab, "ac.TextAnnotator(s, 'doc', 'text')")
    # a real mouse drag over the ZWJ emoji with a skin tone and the next word
    emoji = DOC.index("👩")
    ta.mouse_select(emoji, DOC.index("codes") + 4)
    ta.wait_data("spans", "1")
    (first,) = _spans(lab)
    assert first["text"] == "👩🏽\u200d💻 codes"
    assert (first["start"], first["end"]) == (emoji, DOC.index("codes") + 5)
    assert first["label"] == "phrase"
    # a second real drag in right-to-left text (Hebrew): the selection's logical range counts
    lab.page.keyboard.press("e")  # class hotkey: the next span is an "entity"
    shalom = DOC.index("שלום")
    ta.mouse_select(shalom, shalom + 3, rtl=True)
    ta.wait_data("spans", "2")
    # through the hook (same path as the mouse): offsets inside clusters are widened
    flag = DOC.index("🇫🇷")
    ta.select_range(flag + 1, flag + 2)  # half of the flag → the whole flag
    e_acute = DOC.index("e\u0301t")
    ta.select_range(e_acute, e_acute + 1)  # e without its accent → with it
    ta.select_range(DOC.index("\r\n") - 1, DOC.index("שלום") + 4)  # across CRLF
    ta.select_range(DOC.index("\tم") - 4, DOC.index("\tم") + 6)  # Hebrew, tab, Arabic
    kshatriya = DOC.index("क्ष")
    ta.select_range(kshatriya + 1, kshatriya + 2)  # inside a conjunct → the whole conjunct
    jamo = DOC.index("\u1100")
    ta.select_range(jamo - 1, jamo + 2)  # leading space trimmed; jamo syllable kept whole
    ta.wait_data("spans", "8")
    got = {s["text"] for s in _spans(lab)}
    assert got == {
        "👩🏽\u200d💻 codes",
        "שלום",
        "🇫🇷",
        "e\u0301",
        "!\r\nשלום",
        "עולם\tمرحبا",
        "क्ष",
        "\u1100\u1161\u11a8",
    }
    # the page shows exactly what Python holds, markup included, as text
    assert ta.root.locator("img").count() == 0
    shown = ta.root.locator(".accord-ta-text").evaluate(
        "(el) => [...el.querySelectorAll('.accord-ta-piece')].map(p => p.textContent).join('')"
    )
    assert shown == DOC
    assert "<img src=x onerror=alert(1)>" in ta.root.locator(".accord-ta-text").inner_text()
    assert dialogs == []


def test_python_spans_appear_and_relations_go_through_the_session(lab: Lab) -> None:
    ta = _start(lab, "ac.TextAnnotator(s, 'doc', 'text')")
    lab.run(
        "a = ta.add_span(DOC.index('Café'), DOC.index('Café') + 4, 'entity')\n"
        "b = ta.add_span(DOC.index('👩'), DOC.index('💻') + 1, 'phrase')\n"
        "print('ok')"
    )
    ta.wait_data("spans", "2")
    a, b = lab.value("[a, b]")
    ta.click_char(DOC.index("Caf"))
    ta.wait_data("selected", a)
    assert lab.value("ta.selected") == a
    ta.click_char(DOC.index("Caf"))  # running a cell moved the focus to the notebook
    assert ta.data("selected") == a  # a second click on the same span keeps it selected
    lab.page.keyboard.press("r")
    ta.wait_data("mode", "relate")
    ta.click_char(DOC.index("👩"))
    menu = ta.root.locator(".accord-ta-linkmenu")
    menu.wait_for()
    assert menu.locator("[data-link-type]").all_inner_texts() == ["refers_to"]  # not speaks
    menu.locator('[data-link-type="refers_to"]').click()
    ta.wait_data("links", "1")
    assert lab.value("s.links[['source', 'target', 'type']].values.tolist()") == [
        [a, b, "refers_to"]
    ]
    # a link type the taxonomy does not allow between spans: refused, shown, nothing stored
    ok = ta.root.evaluate("(el, [x, y]) => el.accordRelate(x, y, 'speaks')", [b, a])
    assert ok is False
    alert = ta.root.locator('[role="alert"]')
    alert.wait_for()
    assert "speaks" in alert.inner_text() and "text_span" in alert.inner_text()
    assert lab.value("len(s.links)") == 1
    # undo from the page's keyboard removes the link; the relation list follows
    ta.click_char(DOC.index("Caf"))
    lab.page.keyboard.press("Control+z")
    ta.wait_data("links", "0")
    assert lab.value("len(s.links)") == 0
    # a Python relabel and delete reach the page
    lab.run("s.update(b, label='entity'); s.delete(a)")
    ta.wait_data("spans", "1")
    chip = ta.root.locator(".accord-ta-piece.accord-ta-spanned").first
    assert "entity" in (chip.get_attribute("title") or "")


def test_transcript_cues_show_item_times_and_classify_segments(lab: Lab) -> None:
    ta = _start(lab, "ac.TextAnnotator(s, 'talk')")
    times = ta.root.locator(".accord-ta-time").all_inner_texts()
    assert times == ["0:11.000", "0:13.000"]  # cue starts 1.0 s and 3.0 s, clock offset 10 s
    speakers = ta.root.locator(".accord-ta-speaker").all_inner_texts()
    assert speakers == ["Ana", "Ben"]
    ta.root.locator('[data-segment-classify="1"]').select_option("entity")
    ta.wait_data("spans", "1")
    got = lab.value(
        "[(r.label, s.stream('talk', 'transcript').text[r.start:r.end], r.text, r.item_start)"
        " for r in ta.spans().itertuples()]"
    )
    assert got == [["entity", "General Kenobi! 👋🏽", "General Kenobi! 👋🏽", 13.0]]
    assert ta.root.locator('[data-segment="1"] [data-segment-label="entity"]').count() == 1
    # document classification: a tag on the stream, toggled
    ta.root.locator('[data-doc-label="formal"]').click()
    lab.wait_value("s.annotations.query('kind == \"tag\"')['label'].tolist()", ["formal"])
    # a new clock moves the gutter times
    lab.run("s.set_clock('talk', 'transcript', offset=20.0)")
    ta.page.wait_for_function(
        "(el) => el.querySelector('.accord-ta-time')?.textContent === '0:21.000'",
        arg=ta.root.element_handle(),
    )
