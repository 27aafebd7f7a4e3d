"""Table layout shared by the SQL stores: which columns each record kind has."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TABLES", "TableSpec"]


@dataclass(frozen=True)
class TableSpec:
    """How one record kind maps onto a table: columns in order, JSON ones marked."""

    name: str
    columns: tuple[tuple[str, str], ...]  # (column, SQL type)
    json_columns: frozenset[str]
    indexes: tuple[tuple[str, ...], ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.columns)


_STAMPS = (("revision", "INTEGER NOT NULL"), ("created_at", "REAL"), ("updated_at", "REAL"))

TABLES: dict[str, TableSpec] = {
    "annotation": TableSpec(
        "annotations",
        (
            ("id", "TEXT PRIMARY KEY"),
            ("item", "TEXT NOT NULL"),
            ("stream", "TEXT NOT NULL"),
            ("label", "TEXT NOT NULL"),
            ("kind", "TEXT NOT NULL"),
            ("geometry", "TEXT NOT NULL"),
            ("attributes", "TEXT NOT NULL"),
            ("frame", "INTEGER"),
            ("track", "TEXT"),
            ("entity", "TEXT"),
            ("annotator", "TEXT NOT NULL"),
            ("status", "TEXT NOT NULL"),
            ("source", "TEXT NOT NULL"),
            ("score", "REAL"),
            ("stage", "INTEGER NOT NULL"),
            ("taxonomy_version", "INTEGER NOT NULL"),
            ("sources", "TEXT"),  # provenance: ids a consensus annotation was made from
            *_STAMPS,
        ),
        frozenset({"geometry", "attributes", "sources"}),
        (("item", "stream"), ("entity",), ("track",), ("annotator",)),
    ),
    "link": TableSpec(
        "links",
        (
            ("id", "TEXT PRIMARY KEY"),
            ("item", "TEXT NOT NULL"),
            ("source", "TEXT NOT NULL"),
            ("target", "TEXT NOT NULL"),
            ("type", "TEXT NOT NULL"),
            ("annotator", "TEXT NOT NULL"),
            ("attributes", "TEXT NOT NULL"),
            ("stage", "INTEGER NOT NULL"),
            *_STAMPS,
        ),
        frozenset({"attributes"}),
        (("item",), ("source",), ("target",)),
    ),
    "entity": TableSpec(
        "entities",
        (
            ("id", "TEXT PRIMARY KEY"),
            ("label", "TEXT"),
            ("name", "TEXT NOT NULL"),
            ("attributes", "TEXT NOT NULL"),
            ("annotator", "TEXT NOT NULL"),
            *_STAMPS,
        ),
        frozenset({"attributes"}),
    ),
    "item": TableSpec(
        "items",
        (
            ("id", "TEXT PRIMARY KEY"),
            ("meta", "TEXT NOT NULL"),
            ("calibrations", "TEXT NOT NULL"),
            *_STAMPS,
        ),
        frozenset({"meta", "calibrations"}),
    ),
    "stream": TableSpec(
        "streams",
        (
            ("id", "TEXT PRIMARY KEY"),
            ("item", "TEXT NOT NULL"),
            ("name", "TEXT NOT NULL"),
            ("modality", "TEXT NOT NULL"),
            ("data", "TEXT NOT NULL"),
            *_STAMPS,
        ),
        frozenset({"data"}),
        (("item",),),
    ),
    "taxonomy": TableSpec(
        "taxonomies",
        (
            ("id", "TEXT PRIMARY KEY"),
            ("version", "INTEGER NOT NULL"),
            ("name", "TEXT NOT NULL"),
            ("data", "TEXT NOT NULL"),
            *_STAMPS,
        ),
        frozenset({"data"}),
    ),
    "review": TableSpec(
        "reviews",
        (
            ("id", "TEXT PRIMARY KEY"),
            ("item", "TEXT NOT NULL"),
            ("annotation", "TEXT NOT NULL"),
            ("from_status", "TEXT NOT NULL"),
            ("status", "TEXT NOT NULL"),
            ("comment", "TEXT NOT NULL"),
            ("annotator", "TEXT NOT NULL"),
            ("role", "TEXT NOT NULL"),
            *_STAMPS,
        ),
        frozenset(),
        (("annotation",), ("item",)),
    ),
    "meta": TableSpec(
        "meta",
        (("id", "TEXT PRIMARY KEY"), ("data", "TEXT NOT NULL"), *_STAMPS),
        frozenset({"data"}),
    ),
}
