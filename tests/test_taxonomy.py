"""The taxonomy: file round trips, hierarchy, attributes, link types, rules, versions."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from accord import AttributeSpec, LinkType, Session, Stream, Taxonomy
from accord.errors import (
    GeometryNotAllowedError,
    TaxonomyError,
    UnknownLabelError,
    ValidationError,
)
from accord.model.taxonomy import MODALITY_GEOMETRIES

GUIDELINES = """
name: driving-pilot
version: 3
description: Pilot guidelines for the driving set.
classes:
  - name: vehicle
    color: "#1F77B4"
    geometries: {video: [box, polygon], pointcloud: [cuboid], image: [box]}
    attributes:
      - {name: occluded, type: bool, default: false}
      - {name: truncation, type: float, minimum: 0, maximum: 1}
  - name: car
    parent: vehicle
    hotkey: c
    guidelines: |
      Passenger cars, vans and SUVs.
      Not trucks.
    attributes:
      - {name: colour, type: choice, choices: [red, blue, other]}
      - {name: occluded, type: bool, default: true}
  - name: taxi
    parent: car
    hotkey: t
    attributes:
      - {name: company, type: text, required: true}
  - name: bus
    parent: vehicle
    hotkey: b
    geometries: {video: [box]}
    attributes:
      - {name: doors, type: int, minimum: 1, maximum: 6}
      - {name: lights, type: multi_choice, choices: [brake, indicator, hazard]}
  - name: person
    color: "#ff7f0e"
    hotkey: p
    keypoints: [head, left_hand, right_hand]
  - name: speech
    geometries: {audio: [time_segment], text: [text_span]}
link_types:
  - {name: same_as, sources: [box, cuboid], targets: [box, cuboid], symmetric: true}
  - {name: speaks, sources: [time_segment], targets: [box], description: voice → face}
  - {name: refers_to}
rules:
  - id: car-box
    kind: requires_link
    classes: [car]
    params: {link_type: same_as, from: pointcloud, to: video}
    message: every car cuboid needs its box
  - {id: same-class, kind: same_class, params: {link_type: same_as}, severity: warning}
  - {id: no-overlap, kind: no_overlap, classes: [speech], severity: info}
  - {id: iou, kind: projection_iou, params: {link_type: same_as, min_iou: 0.5}}
"""


@pytest.fixture
def tax() -> Taxonomy:
    return Taxonomy.from_yaml(GUIDELINES)


# -- round trips --------------------------------------------------------------------------


def test_parsed_values(tax: Taxonomy) -> None:
    assert (tax.name, tax.version, tax.description) == (
        "driving-pilot",
        3,
        "Pilot guidelines for the driving set.",
    )
    assert list(tax.classes) == ["vehicle", "car", "taxi", "bus", "person", "speech"]
    assert tax["vehicle"].color == "#1f77b4"  # normalised to lower case
    assert tax["speech"].color == "#888888"  # the default
    assert tax["car"].guidelines == "Passenger cars, vans and SUVs.\nNot trucks.\n"
    assert tax["person"].keypoints == ("head", "left_hand", "right_hand")
    assert list(tax.link_types) == ["same_as", "speaks", "refers_to"]
    assert tax.link_types["speaks"].description == "voice → face"
    assert [r.id for r in tax.rules] == ["car-box", "same-class", "no-overlap", "iou"]


def test_yaml_round_trip(tax: Taxonomy, tmp_path: Path) -> None:
    text = tax.to_yaml()
    again = Taxonomy.from_yaml(text)
    assert again.to_dict() == tax.to_dict()
    assert again == tax
    path = tmp_path / "guidelines.yaml"
    assert tax.to_yaml(path) == path.read_text(encoding="utf-8")
    from_file = Taxonomy.load(path)
    assert from_file.to_dict() == tax.to_dict()
    # the YAML holds plain data a user can read
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["classes"][1]["parent"] == "vehicle"
    assert data["rules"][0]["params"] == {
        "link_type": "same_as",
        "from": "pointcloud",
        "to": "video",
    }


def test_json_round_trip(tax: Taxonomy, tmp_path: Path) -> None:
    text = tax.to_json()
    assert json.loads(text)["version"] == 3
    assert Taxonomy.from_json(text).to_dict() == tax.to_dict()
    path = tmp_path / "guidelines.json"
    tax.to_json(path)
    loaded = Taxonomy.load(path)
    assert loaded.to_dict() == tax.to_dict()
    assert loaded.to_yaml() == tax.to_yaml()


def test_yaml_and_json_agree(tax: Taxonomy) -> None:
    assert Taxonomy.from_json(tax.to_json()) == Taxonomy.from_yaml(tax.to_yaml())


def test_unicode_survives(tmp_path: Path) -> None:
    tax = Taxonomy.build(
        "ünï", [{"name": "vélo", "guidelines": "Fahrräder 🚲, 自行车", "hotkey": "é"}]
    )
    path = tmp_path / "t.yaml"
    tax.to_yaml(path)
    back = Taxonomy.load(path)
    assert back["vélo"].guidelines == "Fahrräder 🚲, 自行车"
    assert back.hotkeys() == {"é": "vélo"}


def test_mapping_form_equals_list_form() -> None:
    listed = Taxonomy.from_yaml(
        "classes:\n"
        "  - {name: vehicle, color: '#112233'}\n"
        "  - {name: car, parent: vehicle, hotkey: c}\n"
        "  - {name: tree}\n"
    )
    mapped = Taxonomy.from_yaml(
        "classes:\n  vehicle: {color: '#112233'}\n  car: {parent: vehicle, hotkey: c}\n  tree:\n"
    )
    assert mapped.to_dict() == listed.to_dict()
    assert list(mapped.classes) == ["vehicle", "car", "tree"]
    assert mapped["car"].parent == "vehicle"


def test_build_from_python_values() -> None:
    tax = Taxonomy.build(
        "py",
        classes=["car", {"name": "bus", "hotkey": "b"}],
        link_types=["same_as", LinkType("speaks", ("time_segment",), ("box",))],
        version=2,
    )
    assert list(tax.classes) == ["car", "bus"]
    assert tax.version == 2
    assert tax.link_type("speaks").sources == ("time_segment",)
    assert Taxonomy.build("py", classes=list(tax.classes.values())).classes == tax.classes


def test_with_version(tax: Taxonomy) -> None:
    bumped = tax.with_version()
    assert bumped.version == 4
    assert bumped.classes == tax.classes
    assert tax.with_version(10, description="new").description == "new"
    assert tax.version == 3  # frozen: the original is untouched


# -- hierarchy, geometries, hotkeys ------------------------------------------------------------


def test_hierarchy(tax: Taxonomy) -> None:
    assert tax.ancestors("taxi") == ["car", "vehicle"]
    assert tax.ancestors("vehicle") == []
    assert tax.is_a("taxi", "vehicle")
    assert tax.is_a("taxi", "taxi")
    assert not tax.is_a("vehicle", "taxi")
    assert not tax.is_a("bus", "car")
    assert tax.children("vehicle") == ["car", "bus"]
    assert tax.children("car") == ["taxi"]
    assert tax.children("taxi") == []
    assert "taxi" in tax and "cat" not in tax
    with pytest.raises(UnknownLabelError, match="'cat'"):
        tax.ancestors("cat")


def test_geometries_are_inherited_unless_declared(tax: Taxonomy) -> None:
    # car and taxi declare none: they inherit vehicle's
    for name in ("vehicle", "car", "taxi"):
        assert tax.allowed_geometries(name, "video") == {"box", "polygon"}
        assert tax.allowed_geometries(name, "pointcloud") == {"cuboid"}
        assert tax.allowed_geometries(name, "audio") == frozenset()
    # bus declares its own: only video boxes, nothing on point clouds
    assert tax.allowed_geometries("bus", "video") == {"box"}
    assert tax.allowed_geometries("bus", "pointcloud") == frozenset()
    # no geometries anywhere up the chain: whatever the modality allows
    assert tax.allowed_geometries("person", "image") == MODALITY_GEOMETRIES["image"]


def test_check_geometry(tax: Taxonomy) -> None:
    tax.check_geometry("taxi", "pointcloud", "cuboid")
    with pytest.raises(GeometryNotAllowedError, match=r"geometry\.kind.*'bus'.*\['box'\]"):
        tax.check_geometry("bus", "video", "polygon")
    with pytest.raises(GeometryNotAllowedError, match="audio stream"):
        tax.check_geometry("person", "audio", "box")


def test_hotkeys(tax: Taxonomy) -> None:
    assert tax.hotkeys() == {"c": "car", "t": "taxi", "b": "bus", "p": "person"}


# -- attributes ------------------------------------------------------------------------------


def test_attributes_are_inherited_parent_first(tax: Taxonomy) -> None:
    attrs = tax.attributes_of("taxi")
    assert list(attrs) == ["occluded", "truncation", "colour", "company"]
    # car redeclares 'occluded' with another default: the nearest class wins
    assert attrs["occluded"].default is True
    assert tax.attributes_of("vehicle")["occluded"].default is False
    assert tax.attributes_of("person") == {}


def test_validate_attributes_fills_defaults_and_checks_required(tax: Taxonomy) -> None:
    assert tax.validate_attributes("vehicle", None) == {"occluded": False}
    assert tax.validate_attributes("car", {"colour": "red"}) == {"occluded": True, "colour": "red"}
    with pytest.raises(ValidationError, match=r"attributes\.company.*required"):
        tax.validate_attributes("taxi", {})
    assert tax.validate_attributes("taxi", {"company": "Yellow", "truncation": 1}) == {
        "occluded": True,
        "truncation": 1.0,
        "company": "Yellow",
    }
    with pytest.raises(ValidationError, match=r"attributes\.doors.*'car'"):
        tax.validate_attributes("car", {"doors": 4})


GOOD_AND_BAD: list[tuple[AttributeSpec, list[Any], list[Any]]] = [
    (AttributeSpec("b", "bool"), [True, False], [0, 1, "true", None]),
    (AttributeSpec("i", "int", minimum=1, maximum=6), [1, 6, 3], [0, 7, 2.0, True, "3"]),
    (
        AttributeSpec("f", "float", minimum=0, maximum=1),
        [0, 0.5, 1.0],
        [-0.1, 1.01, math.nan, math.inf, "0.5", False],
    ),
    (AttributeSpec("t", "text"), ["", "abc"], [1, None, ["a"]]),
    (AttributeSpec("c", "choice", ("red", "blue")), ["red", "blue"], ["green", "RED", None]),
    (
        AttributeSpec("m", "multi_choice", ("a", "b", "c")),
        [[], ["a"], ["a", "c"], ("b",)],
        ["a", ["d"], ["a", "z"], {"a"}],
    ),
]


@pytest.mark.parametrize(
    ("spec", "good", "bad"), GOOD_AND_BAD, ids=[s.type for s, _, _ in GOOD_AND_BAD]
)
def test_attribute_types(spec: AttributeSpec, good: list[Any], bad: list[Any]) -> None:
    for value in good:
        spec.validate(value, f"attributes.{spec.name}")
    for value in bad:
        with pytest.raises(ValidationError) as info:
            spec.validate(value, f"attributes.{spec.name}")
        assert str(info.value).startswith(f"attributes.{spec.name}: expected ")


def test_attribute_normalisation() -> None:
    assert AttributeSpec("f", "float").validate(2, "f") == 2.0
    assert isinstance(AttributeSpec("f", "float").validate(2, "f"), float)
    assert AttributeSpec("m", "multi_choice", ("a", "b")).validate(("b", "a"), "m") == ["b", "a"]
    with pytest.raises(ValidationError) as err:
        AttributeSpec("i", "int", maximum=6).validate(9, "x")
    assert "≤ 6" in str(err.value)


def test_attribute_spec_round_trip() -> None:
    spec = AttributeSpec(
        "doors",
        "int",
        default=4,
        minimum=1,
        maximum=6,
        required=True,
        description="number of doors",
    )
    assert AttributeSpec.from_dict(spec.to_dict(), "a") == spec


# -- link types and rules ----------------------------------------------------------------------


def test_link_type_allows(tax: Taxonomy) -> None:
    speaks = tax.link_type("speaks")
    assert speaks.allows("time_segment", "box")
    assert not speaks.allows("box", "time_segment")  # directed
    assert not speaks.allows("time_segment", "cuboid")
    same = tax.link_type("same_as")
    assert same.allows("cuboid", "box") and same.allows("box", "cuboid")
    assert not same.allows("box", "time_segment")
    any_link = tax.link_type("refers_to")
    assert any_link.allows("text_span", "cuboid") and any_link.allows("tag", "tag")


def test_symmetric_link_type_accepts_either_direction() -> None:
    one_way = LinkType("describes", ("text_span",), ("box",))
    both = LinkType("describes", ("text_span",), ("box",), symmetric=True)
    assert one_way.allows("text_span", "box") and not one_way.allows("box", "text_span")
    assert both.allows("text_span", "box") and both.allows("box", "text_span")
    assert not both.allows("box", "box")
    assert LinkType.from_dict(both.to_dict(), "l") == both


def test_unknown_link_type(tax: Taxonomy) -> None:
    with pytest.raises(UnknownLabelError, match=r"link\.type.*'same_as'"):
        tax.link_type("knows")


def test_rules_validated_and_kept(tax: Taxonomy) -> None:
    rule = tax.rules[0]
    assert (rule.kind, rule.classes, rule.severity) == ("requires_link", ("car",), "error")
    assert dict(rule.params) == {"link_type": "same_as", "from": "pointcloud", "to": "video"}
    assert rule.message == "every car cuboid needs its box"
    assert tax.rules[1].severity == "warning"
    assert tax.rules[3].params["min_iou"] == 0.5
    # each rule kind requires its parameters
    for kind, params in [
        ("same_attribute", {"link_type": "same_as"}),
        ("projection_iou", {"min_iou": 0.5}),
        ("requires_link", {"link_type": "same_as", "from": "video"}),
    ]:
        data = {**tax.to_dict(), "rules": [{"id": "r", "kind": kind, "params": params}]}
        with pytest.raises(TaxonomyError, match=r"rules\[0\]\.params"):
            Taxonomy.from_dict(data)


def test_rules_must_name_known_classes(tax: Taxonomy) -> None:
    data = tax.to_dict()
    data["rules"][2]["classes"] = ["speach"]
    with pytest.raises(TaxonomyError, match=r"rules\.no-overlap\.classes.*'speach'"):
        Taxonomy.from_dict(data)


# -- versions in a Session -----------------------------------------------------------------------


def _session(path: Path, tax: Taxonomy | None, annotator: str = "ana") -> Session:
    return Session(path, taxonomy=tax, annotator=annotator)


def test_versions_in_a_session(tax: Taxonomy, tmp_path: Path) -> None:
    db = tmp_path / "v.accord"
    s = _session(db, tax)
    assert sorted(s.taxonomy_versions()) == [3]
    assert s.taxonomy_versions()[3].to_dict() == tax.to_dict()

    # the same version with other content is refused, and nothing is stored
    changed = Taxonomy.from_dict({**tax.to_dict(), "description": "edited in place"})
    seq = s.store.last_seq()
    with pytest.raises(TaxonomyError, match=r"taxonomy\.version.*with_version"):
        s.set_taxonomy(changed)
    with pytest.raises(TaxonomyError, match=r"taxonomy\.version"):
        _session(db, changed, "bob")
    assert s.store.last_seq() == seq
    assert s.taxonomy.description == tax.description

    # a lower version is refused
    with pytest.raises(TaxonomyError, match="≥ the stored v3"):
        s.set_taxonomy(tax.with_version(2))

    # the same version with the same content is fine and stores nothing new
    assert _session(db, Taxonomy.from_yaml(GUIDELINES), "bob").taxonomy.version == 3
    assert s.store.last_seq() == seq

    # a newer version is adopted and stored next to the old one
    newer = Taxonomy.from_dict(
        {**tax.to_dict(), "version": 4, "classes": [*tax.to_dict()["classes"], {"name": "truck"}]}
    )
    assert s.set_taxonomy(newer) is newer
    assert s.taxonomy.version == 4 and "truck" in s.taxonomy
    versions = s.taxonomy_versions()
    assert sorted(versions) == [3, 4]
    assert "truck" not in versions[3] and "truck" in versions[4]
    assert s.store.last_seq() == seq + 1
    s.close()

    # reopening without a taxonomy uses the latest stored
    reopened = _session(db, None, "carl")
    assert reopened.taxonomy.version == 4
    assert reopened.taxonomy.to_dict() == newer.to_dict()
    # and an older one can no longer be forced on the store
    with pytest.raises(TaxonomyError):
        _session(db, tax.with_version(1), "dan")
    reopened.close()


def test_annotations_keep_their_taxonomy_version(tax: Taxonomy, tmp_path: Path) -> None:
    s = _session(tmp_path / "v.accord", tax)
    s.apply(
        {
            "type": "item.add",
            "item": {"id": "i", "meta": {}, "calibrations": {}},
            "streams": [Stream("i", "cam", "image", width=100, height=100).to_dict()],
        }
    )
    first = s.annotate("i", "cam", "car", [1, 1, 10, 10], kind="box")
    s.set_taxonomy(tax.with_version(4))
    second = s.annotate("i", "cam", "car", [2, 2, 10, 10], kind="box")
    assert s.get(first).taxonomy_version == 3
    assert s.get(second).taxonomy_version == 4
    assert s.annotations.loc[[first, second], "taxonomy_version"].tolist() == [3, 4]


def test_session_without_any_taxonomy(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match=r"Session\(taxonomy=\.\.\.\).*has none yet"):
        _session(tmp_path / "empty.accord", None)


def test_session_loads_a_taxonomy_file(tax: Taxonomy, tmp_path: Path) -> None:
    path = tmp_path / "guidelines.yml"
    tax.to_yaml(path)
    s = _session(tmp_path / "f.accord", path)  # type: ignore[arg-type]
    assert s.taxonomy.to_dict() == tax.to_dict()
    s2 = Session(tmp_path / "g.accord", taxonomy=str(path), annotator="ana")
    assert s2.taxonomy == tax
