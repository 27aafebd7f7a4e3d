"""Praat TextGrid export/import, checked against praatio (files we write, files it writes)."""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Any

import pytest

import accord as ac
from accord.errors import FormatError
from accord.io.textgrid import (
    export_textgrid,
    import_textgrid,
    parse_textgrid,
    read_textgrid,
)

from .conftest import TAXONOMY_YAML, media_free_item

ptg = pytest.importorskip("praatio.textgrid")

IO_TAXONOMY = TAXONOMY_YAML.replace(
    "      - {name: speaker, type: text}\n",
    "      - {name: speaker, type: text}\n"
    "      - {name: text, type: text}\n"
    "      - {name: tier, type: text}\n"
    "      - {name: loud, type: bool}\n",
)


def _session(path: Path, *, offset: float = 0.0, rate: float = 1.0) -> ac.Session:
    s = ac.Session(path, taxonomy=ac.Taxonomy.from_yaml(IO_TAXONOMY), annotator="ana")
    cmd = media_free_item("clip")
    for st in cmd["streams"]:
        if st["name"] == "audio":
            st.update(duration=20.0, clock={"offset": offset, "rate": rate})
    s.apply(cmd)
    return s


def _seg(stream: str, label: str, start: float, end: float, **attributes: Any) -> dict[str, Any]:
    return {
        "item": "clip",
        "stream": stream,
        "label": label,
        "kind": "time_segment",
        "geometry": {"start": start, "end": end},
        "attributes": attributes,
    }


@pytest.fixture
def source(tmp_path: Path):
    s = _session(tmp_path / "src.accord")
    s.apply(
        {
            "type": "annotations.add",
            "annotations": [
                _seg("audio", "speech", 1.0, 2.5, speaker='Zoë "Z"', loud=True),
                _seg("audio", "speech", 2.0, 3.1234567891234, speaker="Bo"),
                _seg("video", "vehicle", 0.00001, 1.5),
            ],
        }
    )
    yield s
    s.close()


@pytest.mark.parametrize("fmt", ["long", "short"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_praatio_reads_what_we_write(
    source: ac.Session, tmp_path: Path, fmt: str, encoding: str
) -> None:
    out = tmp_path / "clip.TextGrid"
    report = export_textgrid(source, out, format=fmt, encoding=encoding)  # type: ignore[arg-type]
    assert report.counts["annotations"] == 3 and report.dropped == []
    head = out.read_bytes()[:2]
    assert (head == codecs.BOM_UTF16_BE) == (encoding == "utf-16")
    tg = ptg.openTextgrid(str(out), includeEmptyIntervals=False)
    entries = {t.name: [tuple(e) for e in t.entries] for t in tg.tiers}
    assert entries == {
        "audio/speech": [(1.0, 2.5, "speech")],
        "audio/speech:speaker": [(1.0, 2.5, 'Zoë "Z"')],
        "audio/speech:loud": [(1.0, 2.5, "true")],
        "audio/speech#2": [(2.0, 3.1234567891234, "speech")],
        "audio/speech#2:speaker": [(2.0, 3.1234567891234, "Bo")],
        "video/vehicle": [(0.00001, 1.5, "vehicle")],
    }
    assert tg.minTimestamp == 0 and tg.maxTimestamp == pytest.approx(20.0)
    # our own reader gives the same, with the empty gap intervals Praat needs
    ours = read_textgrid(out)
    assert [t.name for t in ours.tiers] == [t.name for t in tg.tiers]
    assert ours.tier("audio/speech").entries == ((0, 1.0, ""), (1.0, 2.5, "speech"), (2.5, 20, ""))


def test_round_trip_is_exact_through_clocks(tmp_path: Path) -> None:
    src = _session(tmp_path / "src.accord", offset=0.3617, rate=1.00015)
    src.apply(
        {
            "type": "annotations.add",
            "annotations": [
                _seg("audio", "speech", 0.1 + 0.2, 1 / 3, speaker="Ana", loud=False),
                _seg("transcript", "speech", 4.25, 6.5, text="hello"),
            ],
        }
    )
    export_textgrid(src, tmp_path / "clip.TextGrid", format="short")
    dst = _session(tmp_path / "dst.accord", offset=0.3617, rate=1.00015)
    report = import_textgrid(dst, tmp_path / "clip.TextGrid", item="clip")
    assert report.dropped == [] and report.counts["annotations"] == 2
    cols = ["stream", "label", "attributes"]
    want = src.annotations.sort_values("t_start")
    got = dst.annotations.sort_values("t_start")
    assert got[cols].values.tolist() == want[cols].values.tolist()
    assert got["t_start"].tolist() == pytest.approx(want["t_start"].tolist(), abs=1e-12)
    assert got["t_end"].tolist() == pytest.approx(want["t_end"].tolist(), abs=1e-12)
    assert set(got["source"]) == {"import"}


def test_stream_timeline_writes_stream_seconds(tmp_path: Path) -> None:
    s = _session(tmp_path / "a.accord", offset=5.0)
    s.apply({"type": "annotations.add", "annotations": [_seg("audio", "speech", 1.0, 2.0)]})
    export_textgrid(s, tmp_path / "item.TextGrid")
    export_textgrid(s, tmp_path / "stream.TextGrid", timeline="stream", streams=["audio"])
    item_tg = ptg.openTextgrid(str(tmp_path / "item.TextGrid"), includeEmptyIntervals=False)
    stream_tg = ptg.openTextgrid(str(tmp_path / "stream.TextGrid"), includeEmptyIntervals=False)
    assert tuple(item_tg.getTier("audio/speech").entries[0])[:2] == (6.0, 7.0)
    assert tuple(stream_tg.getTier("audio/speech").entries[0])[:2] == (1.0, 2.0)
    back = _session(tmp_path / "b.accord", offset=5.0)
    import_textgrid(back, tmp_path / "stream.TextGrid", item="clip", timeline="stream")
    assert back.annotations["t_start"].tolist() == [1.0]


def _praatio_grid(path: Path, fmt: str) -> None:
    """A TextGrid written by praatio: words with transcripts, a point tier, a speaker tier."""
    from praatio.data_classes.interval_tier import IntervalTier
    from praatio.data_classes.point_tier import PointTier
    from praatio.data_classes.textgrid import Textgrid

    tg = Textgrid()
    tg.addTier(IntervalTier("Speaker A", [(0.5, 1.25, "héllo wörld"), (2.0, 3.5, "bye")], 0, 10))
    tg.addTier(IntervalTier("Speaker A:speaker", [(0.5, 1.25, "Ana"), (2.0, 3.5, "Ana")], 0, 10))
    tg.addTier(PointTier("audio/bell", [(4.5, "speech"), (9.9995, "speech")], 0, 10))
    tg.save(str(path), format=f"{fmt}_textgrid", includeBlankSpaces=True)


@pytest.mark.parametrize("fmt", ["long", "short"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-bom", "utf-16-be-no-bom"])
def test_imports_files_praatio_writes(tmp_path: Path, fmt: str, encoding: str) -> None:
    path = tmp_path / "praatio.TextGrid"
    _praatio_grid(path, fmt)
    text = path.read_text(encoding="utf-8")
    if encoding == "utf-16-bom":
        path.write_bytes(text.encode("utf-16"))  # BOM + little-endian
    elif encoding == "utf-16-be-no-bom":
        path.write_bytes(text.encode("utf-16-be"))
    s = _session(tmp_path / "a.accord")
    s.taxonomy.classes  # noqa: B018 - the taxonomy lets vehicle segments onto video only
    report = import_textgrid(
        s,
        path,
        item="clip",
        streams={"Speaker A": "audio"},
        labels={"Speaker A": "speech"},
        value_attribute="text",
        tiers=["Speaker A"],
    )
    assert report.dropped == [] and report.counts["annotations"] == 2
    df = s.annotations.sort_values("t_start")
    assert df["t_start"].tolist() == [0.5, 2.0] and df["t_end"].tolist() == [1.25, 3.5]
    assert df["attributes"].tolist() == [
        {"speaker": "Ana", "text": "héllo wörld", "tier": "Speaker A"},
        {"speaker": "Ana", "text": "bye", "tier": "Speaker A"},
    ]


def test_points_become_short_segments_and_can_go_back(tmp_path: Path) -> None:
    path = tmp_path / "praatio.TextGrid"
    _praatio_grid(path, "long")
    s = ac.Session(
        tmp_path / "a.accord", taxonomy=ac.Taxonomy.from_yaml(IO_TAXONOMY), annotator="ana"
    )
    s.apply(media_free_item("clip"))  # its audio lasts 10 s
    report = import_textgrid(s, path, item="clip", tiers=["audio/bell"])
    assert report.dropped == []
    assert report.counts["points"] == 2 and report.counts["annotations"] == 2
    df = s.annotations.sort_values("t_start")
    assert df["t_start"].tolist() == pytest.approx([4.5, 9.9985])
    assert df["t_end"].tolist() == pytest.approx([4.501, 9.9995])  # the last one ends at its time
    out = tmp_path / "back.TextGrid"
    back = export_textgrid(s, out, point_max=0.001)
    assert back.counts["points"] == 2
    tg = ptg.openTextgrid(str(out), includeEmptyIntervals=False)
    (tier,) = tg.tiers
    assert tier.name == "audio/bell" and tier.tierType == "TextTier"  # "bell" kept as tier
    assert [p.label for p in tier.entries] == ["speech", "speech"]
    assert [p.time for p in tier.entries] == pytest.approx([4.5, 9.9985])
    s.close()


def test_what_cannot_be_placed_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "praatio.TextGrid"
    _praatio_grid(path, "short")
    s = _session(tmp_path / "a.accord")
    report = import_textgrid(s, path, item="clip", labels={"audio/bell": "vehicle"})
    reasons = {(d.what, d.id) for d in report.dropped}
    # "Speaker A": no stream; "audio/bell": vehicle takes no time_segment on audio
    assert ("tier", "Speaker A") in reasons
    assert ("annotation", "audio/bell point 1") in reasons
    assert report.command is None and len(s.annotations) == 0


def test_export_reports_other_geometries(source: ac.Session, tmp_path: Path) -> None:
    source.apply(
        {
            "type": "annotations.add",
            "annotations": [
                {
                    "item": "clip",
                    "stream": "cam",
                    "label": "car",
                    "kind": "box",
                    "geometry": [1, 2, 3, 4],
                }
            ],
        }
    )
    report = export_textgrid(source, tmp_path / "clip.TextGrid")
    assert [d.what for d in report.dropped] == ["annotation"]
    assert "box" in report.dropped[0].reason


PRAAT_SHORT = """File type = "ooTextFile short"
Object class = "TextGrid"

0 ! xmin
2.5 ! xmax
<exists>
1
"IntervalTier"
"audio/speech"
0
2.5
2
0
1.5
"speech"
1.5
2.5
""
"""


def test_reads_praat_comments_and_the_old_short_header() -> None:
    grid = parse_textgrid(PRAAT_SHORT, "x.TextGrid")
    assert grid.tier("audio/speech").entries == ((0, 1.5, "speech"), (1.5, 2.5, ""))


@pytest.mark.parametrize(
    ("text", "where", "says"),
    [
        (PRAAT_SHORT.replace('"speech"', '"speech'), "t.TextGrid line 18", 'closing "'),
        (PRAAT_SHORT.replace('"IntervalTier"', '"Foo"'), "t.TextGrid line 8", "IntervalTier"),
        (PRAAT_SHORT.replace("\n2\n0\n", "\n3\n0\n"), "t.TextGrid line 19 (end of file)", "xmin"),
        (PRAAT_SHORT.replace("1.5\n2.5\n", "1.5\n1.0\n"), "t.TextGrid line 17", "xmax ≥ xmin"),
        (PRAAT_SHORT.replace('"TextGrid"', '"Pitch"'), "t.TextGrid line 2", "TextGrid"),
        (PRAAT_SHORT.replace("<exists>", "yes"), "t.TextGrid line 6", "<flag>"),
        (PRAAT_SHORT + "7\n", "t.TextGrid line 19", "end of the file"),
        (PRAAT_SHORT.replace("0 ! xmin", "zero"), "t.TextGrid line 4", "a number"),
    ],
    ids=[
        "unclosed-text",
        "bad-tier-class",
        "too-few-intervals",
        "end-before-start",
        "not-a-textgrid",
        "bad-flag",
        "trailing-data",
        "word-for-number",
    ],
)
def test_malformed_files_name_the_line_and_store_nothing(
    tmp_path: Path, text: str, where: str, says: str
) -> None:
    s = _session(tmp_path / "a.accord")
    (tmp_path / "t.TextGrid").write_text(text, encoding="utf-8")
    seq = s.store.last_seq()
    with pytest.raises(FormatError) as info:
        import_textgrid(s, tmp_path / "t.TextGrid", item="clip", stream="audio")
    assert info.value.where == where
    assert says in str(info.value)
    assert s.store.last_seq() == seq


def test_undecodable_bytes_are_a_format_error(tmp_path: Path) -> None:
    (tmp_path / "t.TextGrid").write_bytes(PRAAT_SHORT.encode("utf-8") + b"\xff\xfe\xfd")
    with pytest.raises(FormatError, match="UTF-8 or UTF-16"):
        read_textgrid(tmp_path / "t.TextGrid")
