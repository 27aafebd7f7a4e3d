"""ELAN .eaf export/import, checked against pympi-ling (files we write, files it writes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import accord as ac
from accord.errors import FormatError, NotFoundError, ValidationError
from accord.io.eaf import export_eaf, import_eaf, read_eaf

from .conftest import TAXONOMY_YAML, media_free_item

Elan = pytest.importorskip("pympi.Elan")

# speech gets the attributes an ELAN transcript needs
IO_TAXONOMY = TAXONOMY_YAML.replace(
    "      - {name: speaker, type: text}\n",
    "      - {name: speaker, type: text}\n"
    "      - {name: text, type: text}\n"
    "      - {name: note, type: text}\n"
    "      - {name: tier, type: text}\n"
    "      - {name: loud, type: bool}\n"
    "      - {name: mood, type: choice, choices: [calm, angry]}\n",
)


def _session(
    path: Path,
    *,
    annotator: str = "ana",
    audio_uri: str | None = "/media/clip.wav",
    offset: float = 0.0,
    rate: float = 1.0,
) -> ac.Session:
    s = ac.Session(path, taxonomy=ac.Taxonomy.from_yaml(IO_TAXONOMY), annotator=annotator)
    cmd = media_free_item("clip")
    for st in cmd["streams"]:
        if st["name"] == "audio":
            st.update(uri=audio_uri, duration=100.0, clock={"offset": offset, "rate": rate})
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
    """ana's session: overlapping speech with typed attributes, a video segment, a box, a link."""
    s = _session(tmp_path / "src.accord", offset=0.25)
    ids = s.apply(
        {
            "type": "annotations.add",
            "annotations": [
                _seg("audio", "speech", 1.0, 2.5, speaker="Ana", loud=True, mood="calm"),
                _seg("audio", "speech", 2.0, 3.0, speaker="Bo", text='Hi <there> & "you"'),
                _seg("video", "vehicle", 0.5, 1.5),
                {
                    "item": "clip",
                    "stream": "cam",
                    "label": "car",
                    "kind": "box",
                    "geometry": [1, 2, 3, 4],
                },
            ],
        }
    ).ids
    s.link(ids[0], ids[3], "speaks")
    yield s
    s.close()


def test_pympi_reads_our_tiers_times_attributes_and_vocabulary(
    source: ac.Session, tmp_path: Path
) -> None:
    report = export_eaf(source, tmp_path / "clip.eaf")
    assert report.paths == [tmp_path / "clip.eaf"]
    assert report.counts == {"annotations": 3, "tiers": 3, "files": 1}
    eaf = Elan.Eaf(str(tmp_path / "clip.eaf"))
    assert eaf.adocument["VERSION"] == "3.0"
    tiers = set(eaf.get_tier_names())
    assert {"audio/speech", "audio/speech#2", "video/vehicle"} <= tiers
    # times: item timeline in ms (audio clock offset 0.25 s)
    assert eaf.get_annotation_data_for_tier("audio/speech") == [(1250, 2750, "speech")]
    assert eaf.get_annotation_data_for_tier("audio/speech#2") == [(2250, 3250, "speech")]
    assert eaf.get_annotation_data_for_tier("video/vehicle") == [(500, 1500, "vehicle")]
    # attributes are symbolic child tiers, JSON for non-text values
    assert eaf.get_parameters_for_tier("audio/speech:loud")["PARENT_REF"] == "audio/speech"
    assert [a[2] for a in eaf.get_ref_annotation_data_for_tier("audio/speech:loud")] == ["true"]
    assert [a[2] for a in eaf.get_ref_annotation_data_for_tier("audio/speech:mood")] == ["calm"]
    texts = eaf.get_ref_annotation_data_for_tier("audio/speech#2:text")
    assert [(a[0], a[1], a[2]) for a in texts] == [(2250, 3250, 'Hi <there> & "you"')]
    params = eaf.get_parameters_for_tier("audio/speech")
    assert params["ANNOTATOR"] == "ana" and params["PARTICIPANT"] == "Ana"
    # controlled vocabulary = taxonomy classes
    ltype = eaf.get_parameters_for_linguistic_type(params["LINGUISTIC_TYPE_REF"])
    cv = eaf.get_cv_entries(ltype["CONTROLLED_VOCABULARY_REF"])
    assert sorted(v[0][0][0] for v in cv.values()) == sorted(
        ["vehicle", "car", "person", "speech", "scene"]
    )
    # media: the clock offset becomes TIME_ORIGIN (ELAN plays media at t + origin)
    (media,) = eaf.get_linked_files()
    assert media["MEDIA_URL"] == "file:///media/clip.wav"
    assert media["TIME_ORIGIN"] == "-250"
    assert media["MIME_TYPE"] == "audio/x-wav"


def test_export_reports_what_eaf_cannot_hold(source: ac.Session, tmp_path: Path) -> None:
    ids = source.annotations.query("kind == 'time_segment'")["id"].tolist()
    source.update(ids[0], track="t1")
    source.set_clock("clip", "audio", rate=1.0001)
    report = export_eaf(source, tmp_path / "clip.eaf")
    dropped = {(d.what, d.reason.split(" ")[0]) for d in report.dropped}
    assert ("annotation", "a") in dropped  # the box: "a box has no place in EAF"
    assert any(d.what == "link" for d in report.dropped)
    assert any(d.what == "clock" and "rate" in d.reason for d in report.dropped)
    assert any(d.what == "field" and d.id == "track" for d in report.dropped)


def test_round_trip_restores_labels_times_attributes_and_clock(
    source: ac.Session, tmp_path: Path
) -> None:
    export_eaf(source, tmp_path / "clip.eaf")
    target = _session(tmp_path / "dst.accord", annotator="bo")
    before = target.store.last_seq()
    report = import_eaf(target, tmp_path / "clip.eaf", item="clip")
    assert report.dropped == []
    assert report.counts["annotations"] == 3
    clock_command = report.extra["clocks"]["audio"].pop("command")
    assert report.extra["clocks"] == {"audio": {"before": 0.0, "offset": 0.25}}
    assert target.store.command(clock_command).type == "stream.clock"
    assert target.stream("clip", "audio").clock.offset == 0.25
    # one import command, then one clock command
    assert [e.command for e in target.store.events(since=before)].count(report.command) == 3
    got = target.annotations.sort_values(["stream", "t_start"])
    want = source.annotations.query("kind == 'time_segment'").sort_values(["stream", "t_start"])
    assert got["label"].tolist() == want["label"].tolist()
    assert got["t_start"].tolist() == pytest.approx(want["t_start"].tolist(), abs=5e-4)
    assert got["t_end"].tolist() == pytest.approx(want["t_end"].tolist(), abs=5e-4)
    assert got["item_start"].tolist() == pytest.approx(want["item_start"].tolist(), abs=5e-4)
    assert got["attributes"].tolist() == want["attributes"].tolist()
    assert set(got["source"]) == {"import"}
    target.close()


def _pympi_file(path: Path, origin: int | None = 500) -> None:
    """An ELAN file written by pympi: two speakers, a child tier, a media time origin."""
    eaf = Elan.Eaf(author="pympi-test")
    eaf.add_linked_file("file:///recordings/clip.wav", mimetype="audio/x-wav", time_origin=origin)
    eaf.add_tier("Speaker A", part="Ana", ann="coder1")
    eaf.add_tier("Speaker B", part="Bo")
    eaf.add_annotation("Speaker A", 1000, 2000, "hello there")
    eaf.add_annotation("Speaker A", 3000, 3500, "bye")
    eaf.add_annotation("Speaker B", 2500, 4000, "general kenobi")
    eaf.add_linguistic_type("note-lt", "Symbolic_Association", timealignable=False)
    eaf.add_tier("Speaker A:note", ling="note-lt", parent="Speaker A")
    eaf.add_ref_annotation("Speaker A:note", "Speaker A", 1500, "whispered")
    eaf.remove_tier("default")
    eaf.to_file(str(path))


def test_imports_a_file_written_by_pympi(tmp_path: Path) -> None:
    _pympi_file(tmp_path / "pympi.eaf")
    s = _session(tmp_path / "a.accord", audio_uri="/elsewhere/clip.wav")
    report = import_eaf(
        s,
        tmp_path / "pympi.eaf",
        item="clip",
        stream="audio",
        label="speech",
        value_attribute="text",
        tier_attribute="tier",
    )
    assert report.dropped == []
    assert report.counts["annotations"] == 3
    # TIME_ORIGIN 500 ms: media time = document time + 0.5 s → clock offset -0.5 s
    assert s.stream("clip", "audio").clock.offset == -0.5
    df = s.annotations.sort_values("t_start")
    assert df["t_start"].tolist() == pytest.approx([1.5, 3.0, 3.5])
    assert df["t_end"].tolist() == pytest.approx([2.5, 4.5, 4.0])
    assert df["item_start"].tolist() == pytest.approx([1.0, 2.5, 3.0])
    assert df["attributes"].tolist() == [
        {"speaker": "Ana", "tier": "Speaker A", "text": "hello there", "note": "whispered"},
        {"speaker": "Bo", "tier": "Speaker B", "text": "general kenobi"},
        {"speaker": "Ana", "tier": "Speaker A", "text": "bye"},
    ]
    doc = read_eaf(tmp_path / "pympi.eaf")
    aligned = {a.id for a in doc.annotations.values() if a.ref is None}
    assert set(report.extra["ids"]) == aligned and len(aligned) == 3
    s.close()


def test_time_origin_can_be_reported_instead_of_applied(tmp_path: Path) -> None:
    _pympi_file(tmp_path / "pympi.eaf", origin=500)
    s = _session(tmp_path / "a.accord", audio_uri="/elsewhere/clip.wav")
    report = import_eaf(
        s,
        tmp_path / "pympi.eaf",
        item="clip",
        stream="audio",
        label="speech",
        value_attribute="text",
        set_clocks=False,
    )
    assert s.stream("clip", "audio").clock.offset == 0.0
    assert [d.what for d in report.dropped] == ["clock"]
    assert "clocks" not in report.extra
    # stream times still follow the media's origin
    assert sorted(s.annotations["t_start"]) == pytest.approx([1.5, 3.0, 3.5])


def test_without_a_time_origin_document_times_are_item_times(tmp_path: Path) -> None:
    _pympi_file(tmp_path / "pympi.eaf", origin=None)
    s = _session(tmp_path / "a.accord", offset=-0.5)
    report = import_eaf(s, tmp_path / "pympi.eaf", item="clip", stream="audio", label="speech")
    assert report.counts["annotations"] == 3
    assert s.stream("clip", "audio").clock.offset == -0.5
    assert sorted(s.annotations["t_start"]) == pytest.approx([1.5, 3.0, 3.5])
    assert sorted(s.annotations["item_start"]) == pytest.approx([1.0, 2.5, 3.0])


def test_what_cannot_be_placed_is_reported_and_the_rest_stored(tmp_path: Path) -> None:
    _pympi_file(tmp_path / "pympi.eaf")
    s = _session(tmp_path / "a.accord")
    # no label= : values are not classes; no value_attribute for "Speaker B" (labels=...)
    report = import_eaf(
        s,
        tmp_path / "pympi.eaf",
        item="clip",
        stream="audio",
        labels={"Speaker B": "speech"},
        tier_attribute=None,
    )
    reasons = [(d.what, d.id) for d in report.dropped]
    doc = read_eaf(tmp_path / "pympi.eaf")
    a_ids = [a.id for a in doc.tiers["Speaker A"].annotations]
    (b_id,) = [a.id for a in doc.tiers["Speaker B"].annotations]
    assert [("annotation", i) in reasons for i in a_ids] == [True, True]
    assert ("attribute", b_id) in reasons  # its value has no attribute to go to
    assert ("tier", "Speaker B") in reasons  # its name has no attribute to go to
    assert report.counts["annotations"] == 1
    assert s.annotations["attributes"].tolist() == [{"speaker": "Bo"}]


def test_a_tier_without_stream_is_reported(tmp_path: Path) -> None:
    _pympi_file(tmp_path / "pympi.eaf")
    s = _session(tmp_path / "a.accord")
    report = import_eaf(s, tmp_path / "pympi.eaf", item="clip", label="speech")
    assert {d.id for d in report.dropped if d.what == "tier"} == {"Speaker A", "Speaker B"}
    assert report.command is None and report.ids == []


def test_times_outside_the_stream_are_reported(tmp_path: Path) -> None:
    src = _session(tmp_path / "src.accord")
    src.apply({"type": "annotations.add", "annotations": [_seg("audio", "speech", 1, 90)]})
    src.apply({"type": "annotations.add", "annotations": [_seg("audio", "speech", 91, 92)]})
    export_eaf(src, tmp_path / "clip.eaf")
    dst = ac.Session(tmp_path / "dst.accord", taxonomy=src.taxonomy, annotator="ana")
    dst.apply(media_free_item("clip"))  # its audio lasts 10 s
    report = import_eaf(dst, tmp_path / "clip.eaf", item="clip")
    assert len(report.dropped) == 2 and all("outside" in d.reason for d in report.dropped)
    assert report.command is None


def test_caller_errors_raise(tmp_path: Path) -> None:
    _pympi_file(tmp_path / "pympi.eaf")
    s = _session(tmp_path / "a.accord")
    with pytest.raises(NotFoundError, match="stream"):
        import_eaf(s, tmp_path / "pympi.eaf", item="clip", stream="nope")
    with pytest.raises(NotFoundError):
        import_eaf(s, tmp_path / "pympi.eaf", item="nope")
    with pytest.raises(ac.errors.UnknownLabelError):
        import_eaf(s, tmp_path / "pympi.eaf", item="clip", stream="audio", label="cat")


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<ANNOTATION_DOCUMENT><HEADER/><TIER TIER_ID="&lol3;"/></ANNOTATION_DOCUMENT>
"""

EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE d [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<ANNOTATION_DOCUMENT><HEADER/><TIER TIER_ID="&xxe;"/></ANNOTATION_DOCUMENT>
"""

GOOD_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<ANNOTATION_DOCUMENT AUTHOR="" DATE="2024-01-01T00:00:00+00:00" VERSION="3.0">
<HEADER TIME_UNITS="milliseconds"/>
<TIME_ORDER><TIME_SLOT TIME_SLOT_ID="ts1" TIME_VALUE="100"/>
<TIME_SLOT TIME_SLOT_ID="ts2" TIME_VALUE="900"/></TIME_ORDER>
"""


@pytest.mark.parametrize(
    ("text", "where", "says"),
    [
        (BOMB, "bad.eaf line 3", "without DTD"),
        (EXTERNAL, "bad.eaf line 2", "external"),
        (
            GOOD_HEAD + '<TIER TIER_ID="audio/speech"><ANNOTATION>',
            "bad.eaf line 6 column 41",
            "well-formed",
        ),
        (
            GOOD_HEAD + '<TIER TIER_ID="t"><ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a1" '
            'TIME_SLOT_REF1="ts1" TIME_SLOT_REF2="ts9"><ANNOTATION_VALUE>x</ANNOTATION_VALUE>'
            "</ALIGNABLE_ANNOTATION></ANNOTATION></TIER></ANNOTATION_DOCUMENT>",
            "bad.eaf TIER 't' ALIGNABLE_ANNOTATION 'a1'.TIME_SLOT_REF2",
            "TIME_SLOT",
        ),
        (
            GOOD_HEAD.replace('TIME_VALUE="900"', 'TIME_VALUE="9s"') + "</ANNOTATION_DOCUMENT>",
            "bad.eaf TIME_SLOT 'ts2'.TIME_VALUE",
            "milliseconds",
        ),
        ("<html><body/></html>", "bad.eaf root element", "ANNOTATION_DOCUMENT"),
    ],
    ids=["billion-laughs", "external-entity", "truncated", "bad-slot-ref", "bad-time", "not-eaf"],
)
def test_malformed_files_raise_and_store_nothing(
    tmp_path: Path, text: str, where: str, says: str
) -> None:
    s = _session(tmp_path / "a.accord")
    (tmp_path / "bad.eaf").write_text(text, encoding="utf-8")
    seq = s.store.last_seq()
    with pytest.raises(FormatError) as info:
        import_eaf(s, tmp_path / "bad.eaf", item="clip", stream="audio", label="speech")
    assert info.value.where == where
    assert says in str(info.value)
    assert s.store.last_seq() == seq and len(s.annotations) == 0


def test_read_eaf_exposes_tiers_media_and_vocabularies(source: ac.Session, tmp_path: Path) -> None:
    export_eaf(source, tmp_path / "clip.eaf")
    doc = read_eaf(tmp_path / "clip.eaf")
    assert doc.tiers["audio/speech:loud"].constraint == "Symbolic_Association"
    assert doc.tiers["audio/speech"].vocabulary == "accord-classes"
    assert "speech" in doc.vocabularies["accord-classes"]
    assert doc.media[0].time_origin == -250 and doc.media[0].file_name == "clip.wav"


def test_folder_export_writes_one_file_per_item(source: ac.Session, tmp_path: Path) -> None:
    source.apply(media_free_item("clip2"))
    with pytest.raises(ValidationError, match="folder"):
        export_eaf(source, tmp_path / "one.eaf")
    report = export_eaf(source, tmp_path / "out")
    assert sorted(p.name for p in report.paths) == ["clip.eaf", "clip2.eaf"]
    assert list(Elan.Eaf(str(tmp_path / "out" / "clip2.eaf")).get_tier_names()) == []
    only = export_eaf(source, tmp_path / "only.eaf", items=["clip"], streams=["video"])
    assert only.counts["annotations"] == 1


def test_annotators_get_their_own_tiers(tmp_path: Path) -> None:
    s = _session(tmp_path / "a.accord")
    s.apply({"type": "annotations.add", "annotations": [_seg("audio", "speech", 1, 2)]})
    bo = ac.Session(tmp_path / "a.accord", annotator="bo")
    bo.apply({"type": "annotations.add", "annotations": [_seg("audio", "speech", 1, 2)]})
    bo.close()
    export_eaf(s, tmp_path / "clip.eaf")
    eaf = Elan.Eaf(str(tmp_path / "clip.eaf"))
    assert {"audio/speech@ana", "audio/speech@bo"} <= set(eaf.get_tier_names())
    assert eaf.get_parameters_for_tier("audio/speech@bo")["ANNOTATOR"] == "bo"
    back = _session(tmp_path / "b.accord")
    report = import_eaf(back, tmp_path / "clip.eaf", item="clip")
    assert report.dropped == [] and report.counts["annotations"] == 2
    assert back.annotations["attributes"].tolist() == [{}, {}]


SUBDIVIDED = """<?xml version="1.0" encoding="UTF-8"?>
<ANNOTATION_DOCUMENT AUTHOR="" DATE="2024-01-01T00:00:00+00:00" FORMAT="3.0" VERSION="3.0">
<HEADER TIME_UNITS="milliseconds"/>
<TIME_ORDER>
  <TIME_SLOT TIME_SLOT_ID="ts1" TIME_VALUE="1000"/>
  <TIME_SLOT TIME_SLOT_ID="ts2" TIME_VALUE="1600"/>
  <TIME_SLOT TIME_SLOT_ID="ts3"/>
  <TIME_SLOT TIME_SLOT_ID="ts4" TIME_VALUE="3000"/>
</TIME_ORDER>
<TIER TIER_ID="utterance" LINGUISTIC_TYPE_REF="utt">
  <ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a1" TIME_SLOT_REF1="ts1" TIME_SLOT_REF2="ts4">
    <ANNOTATION_VALUE>speech</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
</TIER>
<TIER TIER_ID="words" LINGUISTIC_TYPE_REF="sub" PARENT_REF="utterance">
  <ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a2" TIME_SLOT_REF1="ts1" TIME_SLOT_REF2="ts2">
    <ANNOTATION_VALUE>speech</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
  <ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a3" TIME_SLOT_REF1="ts2" TIME_SLOT_REF2="ts3">
    <ANNOTATION_VALUE>speech</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
</TIER>
<TIER TIER_ID="gloss" LINGUISTIC_TYPE_REF="assoc" PARENT_REF="words">
  <ANNOTATION><REF_ANNOTATION ANNOTATION_ID="a4" ANNOTATION_REF="a2">
    <ANNOTATION_VALUE>first</ANNOTATION_VALUE></REF_ANNOTATION></ANNOTATION>
</TIER>
<LINGUISTIC_TYPE LINGUISTIC_TYPE_ID="utt" TIME_ALIGNABLE="true"/>
<LINGUISTIC_TYPE LINGUISTIC_TYPE_ID="sub" TIME_ALIGNABLE="true" CONSTRAINTS="Time_Subdivision"/>
<LINGUISTIC_TYPE LINGUISTIC_TYPE_ID="assoc" TIME_ALIGNABLE="false"
  CONSTRAINTS="Symbolic_Association"/>
</ANNOTATION_DOCUMENT>
"""


def test_child_tiers_inherit_the_stream_and_unaligned_slots_are_reported(tmp_path: Path) -> None:
    (tmp_path / "sub.eaf").write_text(SUBDIVIDED, encoding="utf-8")
    s = _session(tmp_path / "a.accord")
    report = import_eaf(
        s,
        tmp_path / "sub.eaf",
        item="clip",
        streams={"utterance": "audio"},
        attributes={"gloss": "note"},
    )
    assert [(d.what, d.id) for d in report.dropped] == [("annotation", "a3")]
    assert "unaligned" in report.dropped[0].reason
    df = s.annotations.sort_values(["t_start", "t_end"])
    assert df["stream"].tolist() == ["audio", "audio"]  # "words" inherits its parent's stream
    assert df["t_start"].tolist() == [1.0, 1.0] and df["t_end"].tolist() == [1.6, 3.0]
    assert df["attributes"].tolist() == [
        {"note": "first", "tier": "words"},
        {"tier": "utterance"},
    ]


def test_symbolic_subdivisions_join_in_chain_order(tmp_path: Path) -> None:
    text = SUBDIVIDED.replace(
        '<TIER TIER_ID="gloss"',
        '<TIER TIER_ID="morphs" LINGUISTIC_TYPE_REF="subdiv" PARENT_REF="utterance">'
        '<ANNOTATION><REF_ANNOTATION ANNOTATION_ID="m2" ANNOTATION_REF="a1" '
        'PREVIOUS_ANNOTATION="m1"><ANNOTATION_VALUE>b</ANNOTATION_VALUE></REF_ANNOTATION>'
        "</ANNOTATION>"
        '<ANNOTATION><REF_ANNOTATION ANNOTATION_ID="m3" ANNOTATION_REF="a1" '
        'PREVIOUS_ANNOTATION="m2"><ANNOTATION_VALUE>c</ANNOTATION_VALUE></REF_ANNOTATION>'
        "</ANNOTATION>"
        '<ANNOTATION><REF_ANNOTATION ANNOTATION_ID="m1" ANNOTATION_REF="a1">'
        "<ANNOTATION_VALUE>a</ANNOTATION_VALUE></REF_ANNOTATION></ANNOTATION></TIER>\n"
        '<TIER TIER_ID="gloss"',
    ).replace(
        '<LINGUISTIC_TYPE LINGUISTIC_TYPE_ID="utt"',
        '<LINGUISTIC_TYPE LINGUISTIC_TYPE_ID="subdiv" TIME_ALIGNABLE="false" '
        'CONSTRAINTS="Symbolic_Subdivision"/>\n<LINGUISTIC_TYPE LINGUISTIC_TYPE_ID="utt"',
    )
    (tmp_path / "sub.eaf").write_text(text, encoding="utf-8")
    s = _session(tmp_path / "a.accord")
    report = import_eaf(
        s,
        tmp_path / "sub.eaf",
        item="clip",
        streams={"utterance": "audio"},
        tiers=["utterance"],
        attributes={"morphs": "text"},
        tier_attribute=None,
    )
    assert report.counts["annotations"] == 1
    assert s.annotations["attributes"].tolist() == [{"text": "a b c"}]
