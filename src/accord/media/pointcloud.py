"""Point-cloud readers: KITTI ``.bin``, ``.pcd``, ``.ply`` and ``.npy``.

Every reader returns a :class:`PointCloud` with C-contiguous float32 ``xyz``
``(N, 3)``, optional float32 ``intensity`` ``(N,)`` and optional uint8 ``rgb``
``(N, 3)``. A file that exists but cannot be read (truncated, garbage, an
unknown layout) raises :class:`~accord.errors.CorruptMediaError` naming the
file and what was expected.

Formats:

* KITTI ``.bin``: float32 ``x, y, z, intensity`` records, no header.
* ``.pcd`` (PCL): ``DATA ascii``, ``binary`` and ``binary_compressed`` (LZF);
  fields ``x y z`` plus optional ``intensity`` (or ``i``) and ``rgb``/``rgba``
  (packed into one float32/uint32 as in PCL). Points with a NaN coordinate —
  PCL's mark for "no return" in organized clouds — are dropped.
* ``.ply``: ``ascii``, ``binary_little_endian``, ``binary_big_endian``; the
  ``vertex`` element's ``x y z`` plus optional ``intensity`` (or
  ``scalar_intensity``) and ``red green blue``; other elements (faces) are
  skipped.
* ``.npy``: a float array of shape ``(N, 3)`` (xyz) or ``(N, 4)`` (xyz + intensity).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from accord.errors import (
    CorruptMediaError,
    MissingMediaError,
    ShapeError,
    UnsupportedMediaError,
    ValidationError,
)

__all__ = [
    "PointCloud",
    "read_bin",
    "read_npy",
    "read_pcd",
    "read_ply",
    "read_point_cloud",
    "read_sweep",
    "sweep_path",
    "validate_points",
]


@dataclass(frozen=True, eq=False)
class PointCloud:
    """Points of one sweep: ``xyz`` float32 ``(N, 3)``, optional intensity and colour."""

    xyz: np.ndarray
    intensity: np.ndarray | None = None
    rgb: np.ndarray | None = None

    def __post_init__(self) -> None:
        xyz = validate_points(self.xyz, "PointCloud.xyz")
        object.__setattr__(self, "xyz", xyz)
        n = len(xyz)
        if self.intensity is not None:
            i = np.ascontiguousarray(np.asarray(self.intensity, dtype=np.float32).reshape(-1))
            if i.shape != (n,):
                raise ShapeError("PointCloud.intensity", f"shape ({n},)", i.shape)
            object.__setattr__(self, "intensity", i)
        if self.rgb is not None:
            c = np.asarray(self.rgb)
            if c.shape != (n, 3):
                raise ShapeError("PointCloud.rgb", f"shape ({n}, 3)", c.shape)
            if c.dtype != np.uint8:
                if np.issubdtype(c.dtype, np.floating) and c.size and c.max() <= 1.0:
                    c = np.round(c * 255.0)
                c = np.clip(c, 0, 255).astype(np.uint8)
            object.__setattr__(self, "rgb", np.ascontiguousarray(c))

    def __len__(self) -> int:
        return len(self.xyz)

    @property
    def has_intensity(self) -> bool:
        return self.intensity is not None

    @property
    def has_rgb(self) -> bool:
        return self.rgb is not None


def validate_points(array: Any, where: str) -> np.ndarray:
    """Check a point array and return it as C-contiguous float32 ``(N, 3)``.

    Accepts any real numeric array of shape ``(N, 3)`` (or ``(N, 4)`` and
    more, whose first 3 columns are used). Raises :class:`ShapeError` for a
    wrong shape or a non-numeric dtype and :class:`ValidationError` for NaN or
    infinite coordinates — naming ``where``.
    """
    try:
        arr = np.asarray(array) if not isinstance(array, np.ndarray) else array
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise ShapeError(
            where, "a real numeric array (float or int) of shape (N, 3)", detail=str(exc)
        ) from exc
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    ):
        raise ShapeError(where, "a real numeric array (float or int) of shape (N, 3)", arr.dtype)
    if arr.ndim != 2 or arr.shape[1] < 3:
        raise ShapeError(where, "an array of shape (N, 3)", arr.shape)
    xyz = arr[:, :3]
    if np.issubdtype(xyz.dtype, np.floating):
        finite = np.isfinite(xyz)
        if not finite.all():
            row = int(np.flatnonzero(~finite.all(axis=1))[0])
            raise ValidationError(
                where, "finite coordinates", f"NaN or inf at row {row}: {xyz[row].tolist()}"
            )
    with np.errstate(over="ignore"):
        out = np.ascontiguousarray(xyz, dtype=np.float32)
    if np.issubdtype(xyz.dtype, np.floating) and not np.isfinite(out).all():
        raise ValidationError(where, "coordinates within float32 range", "overflow to inf")
    return out


# -- dispatch ---------------------------------------------------------------------------------


def read_point_cloud(path: str | os.PathLike[str]) -> PointCloud:
    """Read one sweep; the format is chosen by the file suffix."""
    p = Path(path)
    if not p.is_file():
        raise MissingMediaError(str(p), "an existing point-cloud file", "no such file")
    suffix = p.suffix.lower()
    readers = {".bin": read_bin, ".pcd": read_pcd, ".ply": read_ply, ".npy": read_npy}
    if suffix not in readers:
        raise UnsupportedMediaError(str(p), f"one of {sorted(readers)}", suffix)
    return readers[suffix](p)


def _finish(p: Path, xyz: np.ndarray, intensity: Any = None, rgb: Any = None) -> PointCloud:
    """Build the PointCloud, turning a bad array into CorruptMediaError."""
    try:
        return PointCloud(xyz, intensity, rgb)
    except ValidationError as exc:
        raise CorruptMediaError(str(p), "finite point coordinates", detail=str(exc)) from exc


# -- KITTI .bin -------------------------------------------------------------------------------


def read_bin(path: str | os.PathLike[str]) -> PointCloud:
    """KITTI Velodyne ``.bin``: float32 records ``x, y, z, intensity``."""
    p = Path(path)
    size = p.stat().st_size
    if size % 16:
        raise CorruptMediaError(
            str(p),
            "a multiple of 16 bytes (float32 x, y, z, intensity per point)",
            f"{size} bytes",
        )
    data = np.fromfile(p, dtype="<f4").reshape(-1, 4)
    return _finish(p, data[:, :3], data[:, 3])


# -- .npy -------------------------------------------------------------------------------------


def read_npy(path: str | os.PathLike[str]) -> PointCloud:
    """A ``.npy`` array of shape ``(N, 3)`` or ``(N, 4)`` (xyz + intensity)."""
    p = Path(path)
    try:
        arr = np.load(p, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise CorruptMediaError(
            str(p), "a .npy array of shape (N, 3) or (N, 4)", detail=str(exc)
        ) from exc
    if not isinstance(arr, np.ndarray) or arr.ndim != 2 or arr.shape[1] not in (3, 4):
        raise CorruptMediaError(
            str(p), "a .npy array of shape (N, 3) or (N, 4)", getattr(arr, "shape", None)
        )
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise CorruptMediaError(str(p), "a float or integer .npy array", str(arr.dtype))
    return _finish(p, arr[:, :3], arr[:, 3] if arr.shape[1] == 4 else None)


# -- .pcd -------------------------------------------------------------------------------------

_PCD_TYPES = {
    ("F", 4): "f4",
    ("F", 8): "f8",
    ("I", 1): "i1",
    ("I", 2): "i2",
    ("I", 4): "i4",
    ("I", 8): "i8",
    ("U", 1): "u1",
    ("U", 2): "u2",
    ("U", 4): "u4",
    ("U", 8): "u8",
}
_PCD_KEYS = ("VERSION", "FIELDS", "SIZE", "TYPE", "COUNT", "WIDTH", "HEIGHT", "VIEWPOINT", "POINTS")


def _read_header(p: Path, fh: Any, end_key: bytes, what: str, limit: int = 200) -> list[str]:
    """Header lines up to and including the one starting with ``end_key``."""
    lines: list[str] = []
    for _ in range(limit):
        raw = fh.readline()
        if not raw:
            raise CorruptMediaError(str(p), f"a {what} header ending in {end_key.decode()}", "EOF")
        try:
            line = raw.decode("ascii").strip()
        except UnicodeDecodeError as exc:
            raise CorruptMediaError(str(p), f"an ASCII {what} header", raw[:40]) from exc
        lines.append(line)
        if raw.startswith(end_key):
            return lines
    raise CorruptMediaError(str(p), f"a {what} header ending in {end_key.decode()}", "no end")


def read_pcd(path: str | os.PathLike[str]) -> PointCloud:
    """PCL ``.pcd`` (``DATA ascii``, ``binary`` or ``binary_compressed``)."""
    p = Path(path)
    with open(p, "rb") as fh:
        lines = _read_header(p, fh, b"DATA", "PCD")
        body = fh.read()
    header: dict[str, list[str]] = {}
    for line in lines:
        if not line or line.startswith("#"):
            continue
        key, *values = line.split()
        header[key.upper()] = values
    for key in ("FIELDS", "SIZE", "TYPE", "DATA"):
        if key not in header:
            raise CorruptMediaError(str(p), f"a PCD header with {key}", "missing")
    fields = header["FIELDS"]
    n_fields = len(fields)
    counts = header.get("COUNT", ["1"] * n_fields)
    if not (len(header["SIZE"]) == len(header["TYPE"]) == len(counts) == n_fields):
        raise CorruptMediaError(
            str(p), "as many SIZE, TYPE and COUNT entries as FIELDS", header["SIZE"]
        )
    try:
        sizes = [int(s) for s in header["SIZE"]]
        counts_i = [int(c) for c in counts]
        if "POINTS" in header:
            n = int(header["POINTS"][0])
        else:
            n = int(header["WIDTH"][0]) * int(header.get("HEIGHT", ["1"])[0])
    except (ValueError, KeyError, IndexError) as exc:
        raise CorruptMediaError(str(p), "integer SIZE, COUNT and POINTS (or WIDTH)") from exc
    if n < 0 or any(c < 1 for c in counts_i):
        raise CorruptMediaError(str(p), "POINTS >= 0 and COUNT >= 1", n)
    types = []
    for name, t, s in zip(fields, header["TYPE"], sizes, strict=True):
        if (t.upper(), s) not in _PCD_TYPES:
            raise CorruptMediaError(
                str(p), f"field {name!r}: TYPE F/I/U with SIZE 1, 2, 4 or 8", f"{t}{s}"
            )
        types.append(_PCD_TYPES[(t.upper(), s)])
    missing = [f for f in ("x", "y", "z") if f not in fields]
    if missing:
        raise CorruptMediaError(str(p), "PCD FIELDS including x y z", fields)
    data_kind = header["DATA"][0].lower() if header["DATA"] else ""
    # a field with COUNT > 1 occupies several columns; name them name, name_1, ...
    columns: list[tuple[str, str]] = []
    for name, t, c in zip(fields, types, counts_i, strict=True):
        columns += [(name if k == 0 else f"{name}__{k}", t) for k in range(c)]
    if data_kind == "ascii":
        cols = _pcd_ascii(p, body, n, columns)
    elif data_kind == "binary":
        dtype = np.dtype([(name, "<" + t) for name, t in columns])
        need = n * dtype.itemsize
        if len(body) < need:
            raise CorruptMediaError(
                str(p), f"{need} bytes of binary point data ({n} points)", f"{len(body)} bytes"
            )
        rec = np.frombuffer(body, dtype=dtype, count=n)
        cols = {name: rec[name] for name, _ in columns}
    elif data_kind == "binary_compressed":
        cols = _pcd_compressed(p, body, n, columns)
    else:
        raise CorruptMediaError(
            str(p), "DATA ascii, binary or binary_compressed", header["DATA"][:1]
        )
    xyz = np.stack([cols["x"], cols["y"], cols["z"]], axis=1)
    intensity = next((cols[k] for k in ("intensity", "i", "I") if k in cols), None)
    rgb = None
    for key in ("rgb", "rgba"):
        if key in cols:
            packed = np.ascontiguousarray(cols[key])
            if packed.dtype.itemsize != 4:
                raise CorruptMediaError(str(p), f"a 4-byte {key} field", str(packed.dtype))
            u = packed.view("<u4") if packed.dtype.byteorder != ">" else packed.astype("<u4")
            rgb = np.stack([(u >> 16) & 255, (u >> 8) & 255, u & 255], axis=1).astype(np.uint8)
            break
    valid = ~np.isnan(xyz.astype(np.float64)).any(axis=1)
    if not valid.all():  # PCL marks invalid points (organized clouds) with NaN: drop them
        xyz = xyz[valid]
        intensity = None if intensity is None else np.asarray(intensity)[valid]
        rgb = None if rgb is None else rgb[valid]
    return _finish(p, xyz, intensity, rgb)


def _pcd_ascii(
    p: Path, body: bytes, n: int, columns: list[tuple[str, str]]
) -> dict[str, np.ndarray]:
    rows = [r for r in body.decode("ascii", errors="replace").splitlines() if r.strip()]
    if len(rows) < n:
        raise CorruptMediaError(str(p), f"{n} ASCII point lines", f"{len(rows)} lines")
    try:
        table = np.array([r.split() for r in rows[:n]], dtype=np.float64)
    except ValueError as exc:
        raise CorruptMediaError(
            str(p), f"{len(columns)} numbers per ASCII point line", detail=str(exc)
        ) from exc
    table = table.reshape(n, -1) if n else np.zeros((0, len(columns)))
    if table.shape[1] != len(columns):
        raise CorruptMediaError(
            str(p), f"{len(columns)} numbers per ASCII point line", table.shape[1]
        )
    out = {}
    for k, (name, t) in enumerate(columns):
        col = table[:, k]
        if name in ("rgb", "rgba"):  # packed colour written as a float or an integer
            col = col.astype(np.float32) if t == "f4" else col.astype(np.uint32).view(np.float32)
        out[name] = col
    return out


def _pcd_compressed(
    p: Path, body: bytes, n: int, columns: list[tuple[str, str]]
) -> dict[str, np.ndarray]:
    if len(body) < 8:
        raise CorruptMediaError(str(p), "binary_compressed sizes (8 bytes)", f"{len(body)} bytes")
    compressed, raw_size = struct.unpack("<II", body[:8])
    if len(body) < 8 + compressed:
        raise CorruptMediaError(str(p), f"{compressed} bytes of LZF data", f"{len(body) - 8} bytes")
    raw = lzf_decompress(body[8 : 8 + compressed], raw_size, str(p))
    out = {}
    offset = 0
    for name, t in columns:  # column-major: all x, then all y, ...
        dt = np.dtype("<" + t)
        end = offset + n * dt.itemsize
        if end > len(raw):
            raise CorruptMediaError(str(p), f"{n} values of field {name!r}", "truncated")
        out[name] = np.frombuffer(raw[offset:end], dtype=dt)
        offset = end
    return out


def lzf_decompress(data: bytes, size: int, where: str = "LZF data") -> bytes:
    """Decompress LZF (liblzf format, as used by PCD ``binary_compressed``)."""
    out = bytearray(size)
    i = o = 0
    n = len(data)
    try:
        while i < n:
            ctrl = data[i]
            i += 1
            if ctrl < 32:  # literal run of ctrl + 1 bytes
                length = ctrl + 1
                if i + length > n or o + length > size:
                    raise CorruptMediaError(where, "a valid LZF stream", "literal overrun")
                out[o : o + length] = data[i : i + length]
                i += length
                o += length
            else:  # back reference
                length = ctrl >> 5
                if length == 7:
                    length += data[i]
                    i += 1
                ref = o - ((ctrl & 0x1F) << 8) - data[i] - 1
                i += 1
                length += 2
                if ref < 0 or o + length > size:
                    raise CorruptMediaError(where, "a valid LZF stream", "bad back reference")
                if ref + length <= o:
                    out[o : o + length] = out[ref : ref + length]
                else:  # overlapping copy, byte by byte
                    for k in range(length):
                        out[o + k] = out[ref + k]
                o += length
    except IndexError as exc:
        raise CorruptMediaError(where, "a valid LZF stream", "truncated") from exc
    if o != size:
        raise CorruptMediaError(where, f"{size} decompressed bytes", o)
    return bytes(out)


# -- .ply -------------------------------------------------------------------------------------

_PLY_TYPES = {
    "char": "i1",
    "int8": "i1",
    "uchar": "u1",
    "uint8": "u1",
    "short": "i2",
    "int16": "i2",
    "ushort": "u2",
    "uint16": "u2",
    "int": "i4",
    "int32": "i4",
    "uint": "u4",
    "uint32": "u4",
    "float": "f4",
    "float32": "f4",
    "double": "f8",
    "float64": "f8",
}


def read_ply(path: str | os.PathLike[str]) -> PointCloud:
    """``.ply`` (ascii or binary, either endianness): the ``vertex`` element."""
    p = Path(path)
    with open(p, "rb") as fh:
        magic = fh.readline()
        if magic.strip() != b"ply":
            raise CorruptMediaError(str(p), "a PLY file starting with 'ply'", magic[:20])
        lines = _read_header(p, fh, b"end_header", "PLY")
        body = fh.read()
    fmt = None
    elements: list[tuple[str, int, list[tuple[str, str | None, str]]]] = []
    for line in lines:
        parts = line.split()
        if not parts or parts[0] in ("comment", "obj_info", "end_header"):
            continue
        if parts[0] == "format" and len(parts) >= 2:
            fmt = parts[1]
        elif parts[0] == "element" and len(parts) == 3:
            try:
                elements.append((parts[1], int(parts[2]), []))
            except ValueError as exc:
                raise CorruptMediaError(str(p), "an integer element count", parts[2]) from exc
        elif parts[0] == "property" and elements:
            if parts[1] == "list" and len(parts) == 5:
                for t in parts[2:4]:
                    if t not in _PLY_TYPES:
                        raise CorruptMediaError(str(p), "a known PLY property type", t)
                elements[-1][2].append((parts[4], _PLY_TYPES[parts[2]], _PLY_TYPES[parts[3]]))
            elif len(parts) == 3 and parts[1] in _PLY_TYPES:
                elements[-1][2].append((parts[2], None, _PLY_TYPES[parts[1]]))
            else:
                raise CorruptMediaError(str(p), "'property TYPE NAME' with a known type", line)
        else:
            raise CorruptMediaError(str(p), "a PLY header line (format/element/property)", line)
    if fmt not in ("ascii", "binary_little_endian", "binary_big_endian"):
        raise CorruptMediaError(
            str(p), "format ascii, binary_little_endian or binary_big_endian", fmt
        )
    if not elements or "vertex" not in [e[0] for e in elements]:
        raise CorruptMediaError(str(p), "a PLY 'element vertex'", [e[0] for e in elements])
    if fmt == "ascii":
        vertex = _ply_ascii(p, body, elements)
    else:
        vertex = _ply_binary(p, body, elements, "<" if fmt == "binary_little_endian" else ">")
    names = vertex.dtype.names or ()
    if not {"x", "y", "z"} <= set(names):
        raise CorruptMediaError(str(p), "vertex properties x y z", list(names))
    xyz = np.stack([vertex["x"], vertex["y"], vertex["z"]], axis=1).astype(np.float64)
    intensity = next(
        (vertex[k] for k in ("intensity", "scalar_intensity", "reflectance") if k in names), None
    )
    rgb = None
    for r, g, b in (("red", "green", "blue"), ("r", "g", "b"), ("diffuse_red",) * 3):
        if {r, g, b} <= set(names):
            rgb = np.stack([vertex[r], vertex[g], vertex[b]], axis=1)
            if rgb.dtype.kind == "f":
                rgb = np.clip(np.round(rgb * (255.0 if rgb.max(initial=0) <= 1.0 else 1.0)), 0, 255)
            rgb = np.clip(rgb, 0, 255).astype(np.uint8)
            break
    return _finish(p, xyz, intensity, rgb)


def _ply_ascii(
    p: Path, body: bytes, elements: list[tuple[str, int, list[tuple[str, str | None, str]]]]
) -> np.ndarray:
    tokens = body.decode("ascii", errors="replace").split()
    pos = 0
    for name, count, props in elements:
        if name != "vertex":
            # skip: each row is scalars and lists
            for _ in range(count):
                for _pname, count_t, _t in props:
                    if pos >= len(tokens):
                        raise CorruptMediaError(str(p), f"{count} {name} rows", "truncated")
                    if count_t is None:
                        pos += 1
                    else:
                        pos += 1 + int(float(tokens[pos]))
            continue
        if any(ct is not None for _n, ct, _t in props):
            raise CorruptMediaError(str(p), "vertex properties without lists", props)
        width = len(props)
        need = count * width
        if pos + need > len(tokens):
            raise CorruptMediaError(
                str(p), f"{count} vertices of {width} values", f"{len(tokens) - pos} values"
            )
        try:
            table = np.array(tokens[pos : pos + need], dtype=np.float64).reshape(count, width)
        except ValueError as exc:
            raise CorruptMediaError(str(p), "numeric vertex values", detail=str(exc)) from exc
        dtype = np.dtype([(n, "f8") for n, _c, _t in props])
        out = np.empty(count, dtype=dtype)
        for k, (n, _c, _t) in enumerate(props):
            out[n] = table[:, k]
        return out
    raise AssertionError("unreachable: vertex element checked before")


def _ply_binary(
    p: Path,
    body: bytes,
    elements: list[tuple[str, int, list[tuple[str, str | None, str]]]],
    order: str,
) -> np.ndarray:
    offset = 0
    for name, count, props in elements:
        has_list = any(ct is not None for _n, ct, _t in props)
        if not has_list:
            dtype = np.dtype([(n, order + t) for n, _c, t in props])
            need = count * dtype.itemsize
            if offset + need > len(body):
                raise CorruptMediaError(
                    str(p),
                    f"{need} bytes for {count} {name} records",
                    f"{len(body) - offset} bytes",
                )
            if name == "vertex":
                return np.frombuffer(body, dtype=dtype, count=count, offset=offset)
            offset += need
            continue
        if name == "vertex":
            raise CorruptMediaError(str(p), "vertex properties without lists", props)
        for _ in range(count):  # walk rows with lists (faces) to find the next element
            for _n, count_t, t in props:
                if count_t is None:
                    offset += np.dtype(t).itemsize
                else:
                    size = np.dtype(count_t).itemsize
                    if offset + size > len(body):
                        raise CorruptMediaError(str(p), f"{count} {name} rows", "truncated")
                    k = int(np.frombuffer(body, order + count_t, 1, offset)[0])
                    offset += size + k * np.dtype(t).itemsize
    raise AssertionError("unreachable: vertex element checked before")


# -- point-cloud streams ----------------------------------------------------------------------


def sweep_path(stream: Any, index: int) -> Path:
    """The file of sweep ``index`` of a point-cloud stream (a folder + ``meta['files']``)."""
    where = f"stream {getattr(stream, 'item', '?')}/{getattr(stream, 'name', '?')}"
    if getattr(stream, "modality", None) != "pointcloud":
        raise ValidationError(where, "a pointcloud stream", getattr(stream, "modality", None))
    files = list((stream.meta or {}).get("files") or [])
    if isinstance(index, bool) or not isinstance(index, int | np.integer):
        raise ValidationError(f"{where}: sweep index", "an integer", index)
    if not 0 <= int(index) < len(files):
        from accord.errors import OutOfBoundsError

        raise OutOfBoundsError(f"{where}: sweep index", f"an index in [0, {len(files) - 1}]", index)
    root = Path(stream.uri)
    if files == [root.name] and root.suffix.lower() in (".bin", ".pcd", ".ply", ".npy"):
        return root  # a single-sweep stream made from one file
    return root / files[int(index)]


def read_sweep(source: Any, *args: Any) -> PointCloud:
    """Read one sweep of a point-cloud stream.

    ``read_sweep(session, item, stream, index)`` or ``read_sweep(stream_obj, index)``
    (``read_sweep(stream_obj, item, stream, index)`` is accepted too, names
    ``None`` or matching the stream).
    """
    if hasattr(source, "stream") and callable(source.stream):
        if len(args) != 3:
            raise ValidationError(
                "read_sweep(session, ...)", "arguments (item, stream, index)", args
            )
        item, name, index = args
        st = source.stream(item, name)
    else:
        st = source
        if len(args) == 3 and all(
            a is None or a == getattr(st, key)
            for a, key in zip(args[:2], ("item", "name"), strict=True)
        ):
            args = args[2:]  # read_sweep(stream, item, name, index) with matching names
        if len(args) != 1:
            raise ValidationError(
                "read_sweep(stream, ...)", "the index (or item, stream name, index)", args
            )
        index = args[0]
    return read_point_cloud(sweep_path(st, index))
