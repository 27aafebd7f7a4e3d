"""The taxonomy: classes, attributes, link types and cross-modal rules.

A taxonomy is versioned data. It can be written in Python, YAML or JSON::

    name: driving-pilot
    version: 1
    classes:
      - name: vehicle
        color: "#1f77b4"
        geometries: {video: [box], pointcloud: [cuboid]}
      - name: car
        parent: vehicle
        hotkey: c
        guidelines: Passenger cars, vans and SUVs.
        attributes:
          - {name: occluded, type: bool, default: false}
    link_types:
      - {name: same_as, sources: [box, cuboid], targets: [box, cuboid]}
    rules:
      - {id: car-box, kind: requires_link, classes: [car],
         params: {link_type: same_as, from: pointcloud, to: video}}

Classes inherit the geometries (when they declare none) and the attributes
of their parent.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from accord.errors import (
    GeometryNotAllowedError,
    TaxonomyError,
    UnknownLabelError,
    ValidationError,
)
from accord.model.geometry import GEOMETRY_KINDS

__all__ = [
    "ATTRIBUTE_TYPES",
    "MODALITIES",
    "MODALITY_GEOMETRIES",
    "RULE_KINDS",
    "AttributeSpec",
    "LabelClass",
    "LinkType",
    "Rule",
    "Taxonomy",
]

#: The modalities a stream can have.
MODALITIES: tuple[str, ...] = ("video", "audio", "text", "image", "pointcloud")

#: Geometry kinds that make sense on each modality (classes can narrow this).
MODALITY_GEOMETRIES: dict[str, frozenset[str]] = {
    "image": frozenset({"box", "rotated_box", "polygon", "keypoints", "tag"}),
    "video": frozenset({"box", "rotated_box", "polygon", "keypoints", "tag", "time_segment"}),
    "audio": frozenset({"time_segment", "tag"}),
    "text": frozenset({"text_span", "tag", "time_segment"}),
    "pointcloud": frozenset({"cuboid", "tag"}),
}

ATTRIBUTE_TYPES: tuple[str, ...] = ("bool", "int", "float", "text", "choice", "multi_choice")

#: Rule kinds and the parameters each requires (evaluated by ``accord.qa``).
RULE_KINDS: dict[str, frozenset[str]] = {
    # every annotation of `classes` on modality `from` links (type) to one on `to`
    "requires_link": frozenset({"link_type", "from", "to"}),
    # annotations joined by `link_type` carry the same class
    "same_class": frozenset({"link_type"}),
    # ... and the same value of `attribute`
    "same_attribute": frozenset({"link_type", "attribute"}),
    # segments of `classes` must not overlap in time on one stream
    "no_overlap": frozenset(),
    # a box linked to a cuboid overlaps its projection by at least `min_iou`
    "projection_iou": frozenset({"link_type", "min_iou"}),
}

SEVERITIES = ("error", "warning", "info")

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_NAME = re.compile(r"^[^\s/][^/]{0,99}$")


def _require_mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TaxonomyError(where, "a mapping", value)
    return value


def _check_keys(value: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise TaxonomyError(where, f"only the keys {sorted(allowed)}", unknown)


def _name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value) or value != value.strip():
        raise TaxonomyError(where, "a non-empty name without '/' or surrounding spaces", value)
    return value


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise TaxonomyError(where, "a list of names", value)
    out = tuple(value)
    for i, v in enumerate(out):
        if not isinstance(v, str):
            raise TaxonomyError(f"{where}[{i}]", "a name", v)
    return out


@dataclass(frozen=True)
class AttributeSpec:
    """A typed attribute of a class (``occluded: bool``, ``colour: choice``...)."""

    name: str
    type: str = "text"
    choices: tuple[str, ...] = ()
    default: Any = None
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    description: str = ""

    def __post_init__(self) -> None:
        where = f"attribute {self.name!r}"
        _name(self.name, f"{where}.name")
        if self.type not in ATTRIBUTE_TYPES:
            raise TaxonomyError(f"{where}.type", f"one of {list(ATTRIBUTE_TYPES)}", self.type)
        object.__setattr__(self, "choices", tuple(self.choices))
        if self.type in ("choice", "multi_choice") and not self.choices:
            raise TaxonomyError(f"{where}.choices", "a non-empty list for a choice attribute", [])
        if len(set(self.choices)) != len(self.choices):
            raise TaxonomyError(f"{where}.choices", "distinct choices", list(self.choices))
        for bound in ("minimum", "maximum"):
            v = getattr(self, bound)
            if v is not None and (
                isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)
            ):
                raise TaxonomyError(f"{where}.{bound}", "a finite number", v)
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise TaxonomyError(
                f"{where}.maximum", f"a maximum ≥ the minimum ({self.minimum})", self.maximum
            )
        if self.default is not None:
            self.validate(self.default, f"{where}.default", error=TaxonomyError)

    def validate(
        self, value: Any, where: str, error: type[ValidationError] = ValidationError
    ) -> Any:
        """Return ``value`` normalised, or raise ``error`` saying what was expected."""
        t = self.type
        if t == "bool":
            if not isinstance(value, bool):
                raise error(where, "true or false", value)
        elif t == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise error(where, "an integer", value)
        elif t == "float":
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                raise error(where, "a finite number", value)
            value = float(value)
        elif t == "text":
            if not isinstance(value, str):
                raise error(where, "a string", value)
        elif t == "choice":
            if value not in self.choices:
                raise error(where, f"one of {list(self.choices)}", value)
        elif t == "multi_choice":
            if isinstance(value, str) or not isinstance(value, list | tuple):
                raise error(where, f"a list drawn from {list(self.choices)}", value)
            bad = [v for v in value if v not in self.choices]
            if bad:
                raise error(where, f"values drawn from {list(self.choices)}", bad)
            value = list(value)
        if t in ("int", "float"):
            if self.minimum is not None and value < self.minimum:
                raise error(where, f"a value ≥ {self.minimum}", value)
            if self.maximum is not None and value > self.maximum:
                raise error(where, f"a value ≤ {self.maximum}", value)
        return value

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.choices:
            out["choices"] = list(self.choices)
        for key in ("default", "minimum", "maximum"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.required:
            out["required"] = True
        if self.description:
            out["description"] = self.description
        return out

    @classmethod
    def from_dict(cls, data: Any, where: str) -> AttributeSpec:
        m = _require_mapping(data, where)
        _check_keys(
            m,
            ("name", "type", "choices", "default", "required", "minimum", "maximum", "description"),
            where,
        )
        if "name" not in m:
            raise TaxonomyError(f"{where}.name", "an attribute name", None)
        try:
            return cls(
                name=_name(m["name"], f"{where}.name"),
                type=m.get("type", "text"),
                choices=_str_list(m.get("choices"), f"{where}.choices"),
                default=m.get("default"),
                required=bool(m.get("required", False)),
                minimum=m.get("minimum"),
                maximum=m.get("maximum"),
                description=str(m.get("description", "")),
            )
        except TaxonomyError as exc:
            raise TaxonomyError(f"{where}: {exc.where}", exc.expected, exc.got) from exc


@dataclass(frozen=True)
class LabelClass:
    """One class: its guidelines, colour, hotkey, allowed geometries, attributes."""

    name: str
    parent: str | None = None
    color: str = "#888888"
    hotkey: str | None = None
    guidelines: str = ""
    geometries: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    attributes: tuple[AttributeSpec, ...] = ()
    keypoints: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.parent:
            out["parent"] = self.parent
        out["color"] = self.color
        if self.hotkey:
            out["hotkey"] = self.hotkey
        if self.guidelines:
            out["guidelines"] = self.guidelines
        if self.geometries:
            out["geometries"] = {m: list(k) for m, k in self.geometries.items()}
        if self.attributes:
            out["attributes"] = [a.to_dict() for a in self.attributes]
        if self.keypoints:
            out["keypoints"] = list(self.keypoints)
        return out

    @classmethod
    def from_dict(cls, data: Any, where: str) -> LabelClass:
        m = _require_mapping(data, where)
        _check_keys(
            m,
            (
                "name",
                "parent",
                "color",
                "hotkey",
                "guidelines",
                "geometries",
                "attributes",
                "keypoints",
            ),
            where,
        )
        if "name" not in m:
            raise TaxonomyError(f"{where}.name", "a class name", None)
        name = _name(m["name"], f"{where}.name")
        color = m.get("color", "#888888")
        if not isinstance(color, str) or not _COLOUR.match(color):
            raise TaxonomyError(f"{where}.color", "a '#rrggbb' hex colour", color)
        hotkey = m.get("hotkey")
        if hotkey is not None:
            hotkey = str(hotkey)
            if len(hotkey) != 1 or not hotkey.isprintable() or hotkey.isspace():
                raise TaxonomyError(f"{where}.hotkey", "a single printable character", hotkey)
        geometries: dict[str, tuple[str, ...]] = {}
        geo = m.get("geometries") or {}
        _require_mapping(geo, f"{where}.geometries")
        for modality, kinds in geo.items():
            if modality not in MODALITIES:
                raise TaxonomyError(
                    f"{where}.geometries", f"modalities among {list(MODALITIES)}", modality
                )
            kinds_t = _str_list(kinds, f"{where}.geometries.{modality}")
            for k in kinds_t:
                if k not in MODALITY_GEOMETRIES[modality]:
                    raise TaxonomyError(
                        f"{where}.geometries.{modality}",
                        f"geometries among {sorted(MODALITY_GEOMETRIES[modality])}",
                        k,
                    )
            geometries[modality] = kinds_t
        attrs_raw = m.get("attributes") or []
        if not isinstance(attrs_raw, list):
            raise TaxonomyError(f"{where}.attributes", "a list of attributes", attrs_raw)
        attrs = tuple(
            AttributeSpec.from_dict(a, f"{where}.attributes[{i}]") for i, a in enumerate(attrs_raw)
        )
        names = [a.name for a in attrs]
        if len(set(names)) != len(names):
            raise TaxonomyError(f"{where}.attributes", "distinct attribute names", names)
        guidelines = m.get("guidelines", "")
        if not isinstance(guidelines, str):
            raise TaxonomyError(f"{where}.guidelines", "text", guidelines)
        parent = m.get("parent")
        if parent is not None:
            parent = _name(parent, f"{where}.parent")
        return cls(
            name=name,
            parent=parent,
            color=color.lower(),
            hotkey=hotkey,
            guidelines=guidelines,
            geometries=geometries,
            attributes=attrs,
            keypoints=_str_list(m.get("keypoints"), f"{where}.keypoints"),
        )


@dataclass(frozen=True)
class LinkType:
    """A typed, directed link between annotations (``same_as``, ``speaks``...).

    ``sources``/``targets`` list the geometry kinds allowed at each end
    (empty = any kind).
    """

    name: str
    sources: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    description: str = ""
    symmetric: bool = False

    def allows(self, source_kind: str, target_kind: str) -> bool:
        ok = (not self.sources or source_kind in self.sources) and (
            not self.targets or target_kind in self.targets
        )
        if not ok and self.symmetric:
            return (not self.sources or target_kind in self.sources) and (
                not self.targets or source_kind in self.targets
            )
        return ok

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.sources:
            out["sources"] = list(self.sources)
        if self.targets:
            out["targets"] = list(self.targets)
        if self.description:
            out["description"] = self.description
        if self.symmetric:
            out["symmetric"] = True
        return out

    @classmethod
    def from_dict(cls, data: Any, where: str) -> LinkType:
        m = _require_mapping(data, where)
        _check_keys(m, ("name", "sources", "targets", "description", "symmetric"), where)
        if "name" not in m:
            raise TaxonomyError(f"{where}.name", "a link type name", None)
        ends = {}
        for end in ("sources", "targets"):
            kinds = _str_list(m.get(end), f"{where}.{end}")
            for k in kinds:
                if k not in GEOMETRY_KINDS:
                    raise TaxonomyError(
                        f"{where}.{end}", f"geometry kinds among {sorted(GEOMETRY_KINDS)}", k
                    )
            ends[end] = kinds
        return cls(
            name=_name(m["name"], f"{where}.name"),
            sources=ends["sources"],
            targets=ends["targets"],
            description=str(m.get("description", "")),
            symmetric=bool(m.get("symmetric", False)),
        )


@dataclass(frozen=True)
class Rule:
    """A cross-modal consistency rule, declared as data (see ``RULE_KINDS``)."""

    id: str
    kind: str
    classes: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    severity: str = "error"
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "kind": self.kind}
        if self.classes:
            out["classes"] = list(self.classes)
        if self.params:
            out["params"] = dict(self.params)
        out["severity"] = self.severity
        if self.message:
            out["message"] = self.message
        return out

    @classmethod
    def from_dict(cls, data: Any, where: str) -> Rule:
        m = _require_mapping(data, where)
        _check_keys(m, ("id", "kind", "classes", "params", "severity", "message"), where)
        if "id" not in m:
            raise TaxonomyError(f"{where}.id", "a rule id", None)
        kind = m.get("kind")
        if kind not in RULE_KINDS:
            raise TaxonomyError(f"{where}.kind", f"one of {sorted(RULE_KINDS)}", kind)
        params = dict(_require_mapping(m.get("params") or {}, f"{where}.params"))
        missing = sorted(RULE_KINDS[kind] - set(params))
        if missing:
            raise TaxonomyError(
                f"{where}.params", f"parameters {sorted(RULE_KINDS[kind])}", sorted(params)
            )
        for key in ("from", "to"):
            if key in params and params[key] not in MODALITIES:
                raise TaxonomyError(
                    f"{where}.params.{key}", f"a modality among {list(MODALITIES)}", params[key]
                )
        severity = m.get("severity", "error")
        if severity not in SEVERITIES:
            raise TaxonomyError(f"{where}.severity", f"one of {list(SEVERITIES)}", severity)
        return cls(
            id=_name(m["id"], f"{where}.id"),
            kind=kind,
            classes=_str_list(m.get("classes"), f"{where}.classes"),
            params=params,
            severity=severity,
            message=str(m.get("message", "")),
        )


@dataclass(frozen=True)
class Taxonomy:
    """A versioned set of classes, link types and cross-modal rules."""

    name: str = "taxonomy"
    version: int = 1
    classes: Mapping[str, LabelClass] = field(default_factory=dict)
    link_types: Mapping[str, LinkType] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        self._validate()

    # -- construction -----------------------------------------------------
    @classmethod
    def build(
        cls,
        name: str = "taxonomy",
        classes: Iterable[LabelClass | Mapping[str, Any] | str] = (),
        link_types: Iterable[LinkType | Mapping[str, Any] | str] = (),
        rules: Iterable[Rule | Mapping[str, Any]] = (),
        version: int = 1,
        description: str = "",
    ) -> Taxonomy:
        """Build from Python values; plain strings make default classes/links."""
        data = {
            "name": name,
            "version": version,
            "description": description,
            "classes": [
                c.to_dict()
                if isinstance(c, LabelClass)
                else ({"name": c} if isinstance(c, str) else c)
                for c in classes
            ],
            "link_types": [
                lt.to_dict()
                if isinstance(lt, LinkType)
                else ({"name": lt} if isinstance(lt, str) else lt)
                for lt in link_types
            ],
            "rules": [r.to_dict() if isinstance(r, Rule) else r for r in rules],
        }
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Any, source: str = "taxonomy") -> Taxonomy:
        m = _require_mapping(data, source)
        _check_keys(m, ("name", "version", "description", "classes", "link_types", "rules"), source)
        version = m.get("version", 1)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise TaxonomyError(f"{source}: version", "an integer ≥ 1", version)
        raw_classes = m.get("classes") or []
        if isinstance(raw_classes, Mapping):  # {name: spec} form
            for k, v in raw_classes.items():
                if v is not None and not isinstance(v, Mapping):
                    raise TaxonomyError(f"{source}: classes.{k}", "a mapping of class fields", v)
            raw_classes = [{"name": k, **(v or {})} for k, v in raw_classes.items()]
        if not isinstance(raw_classes, list):
            raise TaxonomyError(f"{source}: classes", "a list (or mapping) of classes", raw_classes)
        classes: dict[str, LabelClass] = {}
        for i, c in enumerate(raw_classes):
            lc = _prefixed(source, lambda c=c, i=i: LabelClass.from_dict(c, f"classes[{i}]"))
            if lc.name in classes:
                raise TaxonomyError(f"{source}: classes[{i}].name", "a unique class name", lc.name)
            classes[lc.name] = lc
        raw_links = m.get("link_types") or []
        if not isinstance(raw_links, list):
            raise TaxonomyError(f"{source}: link_types", "a list of link types", raw_links)
        links: dict[str, LinkType] = {}
        for i, lt_raw in enumerate(raw_links):
            lt = _prefixed(source, lambda x=lt_raw, i=i: LinkType.from_dict(x, f"link_types[{i}]"))
            if lt.name in links:
                raise TaxonomyError(
                    f"{source}: link_types[{i}].name", "a unique link type", lt.name
                )
            links[lt.name] = lt
        raw_rules = m.get("rules") or []
        if not isinstance(raw_rules, list):
            raise TaxonomyError(f"{source}: rules", "a list of rules", raw_rules)
        rules = tuple(
            _prefixed(source, lambda r=r, i=i: Rule.from_dict(r, f"rules[{i}]"))
            for i, r in enumerate(raw_rules)
        )
        name = m.get("name", "taxonomy")
        if not isinstance(name, str) or not name:
            raise TaxonomyError(f"{source}: name", "a non-empty name", name)
        try:
            return cls(
                name=name,
                version=version,
                classes=classes,
                link_types=links,
                rules=rules,
                description=str(m.get("description", "")),
            )
        except TaxonomyError as exc:
            raise TaxonomyError(f"{source}: {exc.where}", exc.expected, exc.got) from exc

    @classmethod
    def from_yaml(cls, path_or_text: str | os.PathLike[str]) -> Taxonomy:
        """Load a YAML file (or YAML text containing a newline)."""
        text, source = _read(path_or_text)
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            place = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise TaxonomyError(
                f"{source}{place}", "valid YAML", detail=str(exc).splitlines()[0]
            ) from exc
        return cls.from_dict(data, source)

    @classmethod
    def from_json(cls, path_or_text: str | os.PathLike[str]) -> Taxonomy:
        """Load a JSON file (or JSON text starting with ``{``)."""
        text, source = _read(path_or_text)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TaxonomyError(
                f"{source} line {exc.lineno}, column {exc.colno}", "valid JSON", detail=exc.msg
            ) from exc
        return cls.from_dict(data, source)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Taxonomy:
        """Load by extension: ``.yaml``/``.yml`` or ``.json``."""
        suffix = Path(path).suffix.lower()
        if suffix in (".yaml", ".yml"):
            return cls.from_yaml(path)
        if suffix == ".json":
            return cls.from_json(path)
        raise TaxonomyError(str(path), "a .yaml, .yml or .json file", suffix)

    # -- output -------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "version": self.version}
        if self.description:
            out["description"] = self.description
        out["classes"] = [c.to_dict() for c in self.classes.values()]
        out["link_types"] = [lt.to_dict() for lt in self.link_types.values()]
        out["rules"] = [r.to_dict() for r in self.rules]
        return out

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def to_yaml(self, path: str | os.PathLike[str] | None = None) -> str:
        text = yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def with_version(self, version: int | None = None, **changes: Any) -> Taxonomy:
        """A copy with ``version`` (default: next) and other fields replaced."""
        return replace(self, version=version or self.version + 1, **changes)

    # -- queries -------------------------------------------------------------
    def __contains__(self, label: object) -> bool:
        return label in self.classes

    def __getitem__(self, label: str) -> LabelClass:
        return self.label(label)

    def label(self, name: str, where: str = "label") -> LabelClass:
        """The class ``name`` or :class:`UnknownLabelError`."""
        try:
            return self.classes[name]
        except (KeyError, TypeError):
            raise UnknownLabelError(
                where,
                f"a class of taxonomy {self.name!r} v{self.version} ({_preview(self.classes)})",
                name,
            ) from None

    def ancestors(self, name: str) -> list[str]:
        """Parents of ``name`` from nearest to root."""
        out: list[str] = []
        parent = self.label(name).parent
        while parent is not None:
            out.append(parent)
            parent = self.classes[parent].parent
        return out

    def is_a(self, name: str, ancestor: str) -> bool:
        return name == ancestor or ancestor in self.ancestors(name)

    def children(self, name: str) -> list[str]:
        return [c.name for c in self.classes.values() if c.parent == name]

    def allowed_geometries(self, name: str, modality: str) -> frozenset[str]:
        """Geometry kinds class ``name`` may use on ``modality`` (inherited)."""
        cls: LabelClass | None = self.label(name)
        while cls is not None:
            if cls.geometries:
                return frozenset(cls.geometries.get(modality, ()))
            cls = self.classes[cls.parent] if cls.parent else None
        return MODALITY_GEOMETRIES.get(modality, frozenset())

    def attributes_of(self, name: str) -> dict[str, AttributeSpec]:
        """Attributes of class ``name``, the parent's first."""
        chain = [*reversed(self.ancestors(name)), name]
        out: dict[str, AttributeSpec] = {}
        for c in chain:
            for a in self.classes[c].attributes:
                out[a.name] = a
        return out

    def check_geometry(self, label: str, modality: str, kind: str, where: str = "geometry") -> None:
        """Raise :class:`GeometryNotAllowedError` unless ``kind`` is allowed."""
        if kind not in MODALITY_GEOMETRIES.get(modality, frozenset()):
            raise GeometryNotAllowedError(
                f"{where}.kind",
                f"a geometry possible on {_article(modality)} {modality} stream "
                f"({sorted(MODALITY_GEOMETRIES.get(modality, ()))})",
                kind,
            )
        allowed = self.allowed_geometries(label, modality)
        if kind not in allowed:
            raise GeometryNotAllowedError(
                f"{where}.kind",
                f"a geometry class {label!r} allows on {modality} ({sorted(allowed)})",
                kind,
            )

    def validate_attributes(
        self, label: str, attributes: Mapping[str, Any] | None, where: str = "attributes"
    ) -> dict[str, Any]:
        """Validated attributes with defaults filled in."""
        specs = self.attributes_of(label)
        attributes = dict(attributes or {})
        unknown = sorted(set(attributes) - set(specs))
        if unknown:
            raise ValidationError(
                f"{where}.{unknown[0]}", f"an attribute of {label!r} ({sorted(specs)})", unknown[0]
            )
        out: dict[str, Any] = {}
        for name, spec in specs.items():
            if name in attributes and attributes[name] is not None:
                out[name] = spec.validate(attributes[name], f"{where}.{name}")
            elif spec.default is not None:
                out[name] = spec.default
            elif spec.required:
                raise ValidationError(
                    f"{where}.{name}", f"a value for required attribute {name!r}", None
                )
        return out

    def link_type(self, name: str, where: str = "link.type") -> LinkType:
        try:
            return self.link_types[name]
        except (KeyError, TypeError):
            raise UnknownLabelError(
                where, f"a link type of the taxonomy ({_preview(self.link_types)})", name
            ) from None

    def hotkeys(self) -> dict[str, str]:
        return {c.hotkey: c.name for c in self.classes.values() if c.hotkey}

    # -- consistency -----------------------------------------------------------
    def _validate(self) -> None:
        for name, cls in self.classes.items():
            if cls.parent is not None and cls.parent not in self.classes:
                raise TaxonomyError(
                    f"classes.{name}.parent", "the name of another class", cls.parent
                )
        for name in self.classes:  # cycles
            seen = {name}
            parent = self.classes[name].parent
            while parent is not None:
                if parent in seen:
                    raise TaxonomyError(
                        f"classes.{name}.parent", "a hierarchy without cycles", parent
                    )
                seen.add(parent)
                parent = self.classes[parent].parent
        keys: dict[str, str] = {}
        for name, cls in self.classes.items():
            if cls.hotkey:
                if cls.hotkey in keys:
                    raise TaxonomyError(
                        f"classes.{name}.hotkey",
                        f"a key not used by {keys[cls.hotkey]!r}",
                        cls.hotkey,
                    )
                keys[cls.hotkey] = name
        for rule in self.rules:
            for c in rule.classes:
                if c not in self.classes:
                    raise TaxonomyError(f"rules.{rule.id}.classes", "names of classes", c)
            lt = rule.params.get("link_type")
            if lt is not None and lt not in self.link_types:
                raise TaxonomyError(f"rules.{rule.id}.params.link_type", "a declared link type", lt)
        ids = [r.id for r in self.rules]
        if len(set(ids)) != len(ids):
            raise TaxonomyError("rules", "unique rule ids", ids)


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _prefixed(source: str, make: Any) -> Any:
    try:
        return make()
    except TaxonomyError as exc:
        raise TaxonomyError(f"{source}: {exc.where}", exc.expected, exc.got) from exc


def _preview(names: Mapping[str, Any], limit: int = 12) -> str:
    keys = list(names)
    if not keys:
        return "none defined"
    shown = ", ".join(repr(k) for k in keys[:limit])
    return shown + (f", … {len(keys) - limit} more" if len(keys) > limit else "")


def _read(path_or_text: str | os.PathLike[str]) -> tuple[str, str]:
    if isinstance(path_or_text, str) and (
        "\n" in path_or_text or path_or_text.lstrip().startswith("{")
    ):
        return path_or_text, "taxonomy text"
    path = Path(path_or_text)
    if not path.is_file():
        raise TaxonomyError(str(path), "an existing taxonomy file", "no such file")
    try:
        return path.read_text(encoding="utf-8"), path.name
    except UnicodeDecodeError as exc:
        raise TaxonomyError(str(path), "UTF-8 text", detail=str(exc)) from exc
