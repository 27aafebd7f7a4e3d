"""Point-cloud readers: every format written here (pure numpy) and read back."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from accord.errors import (
    CorruptMediaError,
    MissingMediaError,
    OutOfBoundsError,
    ShapeError,
    UnsupportedMediaError,
    ValidationError,
)
from accord.media.pointcloud import (
    PointCloud,
    lzf_decompress,
    read_point_cloud,
    read_sweep,
    sweep_path,
    validate_points,
)

RNG = np.random.default_rng(7)
N = 257
XYZ = (RNG.normal(0, 10, (N, 3))).astype(np.float32)
INTENSITY = RNG.uniform(0, 1, N).astype(np.float32)
RGB = RNG.integers(0, 256, (N, 3)).astype(np.uint8)


# -- writers (independent of the readers) --------------------------------------------------


def write_bin(path: Path, xyz: np.ndarray, intensity: np.ndarray) -> None:
    np.hstack([xyz, intensity[:, None]]).astype("<f4").tofile(path)


def pack_rgb(rgb: np.ndarray) -> np.ndarray:
    r, g, b = (rgb[:, k].astype(np.uint32) for k in range(3))
    return (r << 16) | (g << 8) | b


def lzf_compress(data: bytes) -> bytes:
    """A small greedy LZF compressor (liblzf format) with back references."""
    out = bytearray()
    lit = bytearray()
    table: dict[bytes, int] = {}
    i, n = 0, len(data)

    def flush() -> None:
        for k in range(0, len(lit), 32):
            chunk = lit[k : k + 32]
            out.append(len(chunk) - 1)
            out.extend(chunk)
        lit.clear()

    while i < n:
        key = data[i : i + 3]
        ref = table.get(key) if len(key) == 3 else None
        table[key] = i
        if ref is not None and i - ref - 1 < 8192:
            length = 3
            while i + length < n and length < 264 and data[ref + length] == data[i + length]:
                length += 1
            flush()
            off = i - ref - 1
            ln = length - 2
            if ln < 7:
                out.append((ln << 5) | (off >> 8))
            else:
                out.append((7 << 5) | (off >> 8))
                out.append(ln - 7)
            out.append(off & 0xFF)
            i += length
        else:
            lit.append(data[i])
            i += 1
    flush()
    return bytes(out)


def write_pcd(
    path: Path,
    xyz: np.ndarray,
    *,
    intensity: np.ndarray | None = None,
    rgb: np.ndarray | None = None,
    data: str = "binary",
) -> None:
    fields, sizes, types = ["x", "y", "z"], ["4", "4", "4"], ["F", "F", "F"]
    cols = [xyz[:, 0], xyz[:, 1], xyz[:, 2]]
    if intensity is not None:
        fields.append("intensity")
        sizes.append("4")
        types.append("F")
        cols.append(intensity.astype("<f4"))
    if rgb is not None:
        fields.append("rgb")
        sizes.append("4")
        types.append("U")
        cols.append(pack_rgb(rgb))
    n = len(xyz)
    header = (
        "# .PCD v0.7 - Point Cloud Data file format\n"
        "VERSION 0.7\n"
        f"FIELDS {' '.join(fields)}\nSIZE {' '.join(sizes)}\nTYPE {' '.join(types)}\n"
        f"COUNT {' '.join('1' for _ in fields)}\nWIDTH {n}\nHEIGHT 1\n"
        f"VIEWPOINT 0 0 0 1 0 0 0\nPOINTS {n}\nDATA {data}\n"
    )
    if data == "ascii":
        lines = []
        for k in range(n):
            vals = [
                repr(float(np.float32(c[k]))) if c.dtype.kind == "f" else str(int(c[k]))
                for c in cols
            ]
            lines.append(" ".join(vals))
        body = ("\n".join(lines) + "\n").encode()
    elif data == "binary":
        codes = ["<f4" if t == "F" else "<u4" for t in types]
        dtype = np.dtype(list(zip(fields, codes, strict=True)))
        rec = np.empty(n, dtype)
        for f, c in zip(fields, cols, strict=True):
            rec[f] = c
        body = rec.tobytes()
    else:
        raw = b"".join(
            np.asarray(c, "<f4" if c.dtype.kind == "f" else "<u4").tobytes() for c in cols
        )
        comp = lzf_compress(raw)
        body = struct.pack("<II", len(comp), len(raw)) + comp
    path.write_bytes(header.encode() + body)


def write_ply(
    path: Path,
    xyz: np.ndarray,
    *,
    intensity: np.ndarray | None = None,
    rgb: np.ndarray | None = None,
    fmt: str = "binary_little_endian",
    faces: bool = True,
) -> None:
    n = len(xyz)
    props = [("x", "float", "f4"), ("y", "float", "f4"), ("z", "float", "f4")]
    if intensity is not None:
        props.append(("intensity", "float", "f4"))
    if rgb is not None:
        props += [("red", "uchar", "u1"), ("green", "uchar", "u1"), ("blue", "uchar", "u1")]
    head = ["ply", f"format {fmt} 1.0", "comment written by test_pointcloud", f"element vertex {n}"]
    head += [f"property {t} {name}" for name, t, _ in props]
    tri = np.array([[0, 1, 2], [1, 2, 3]])
    if faces:
        head += [f"element face {len(tri)}", "property list uchar int vertex_indices"]
    head.append("end_header")
    header = ("\n".join(head) + "\n").encode()
    cols: dict[str, np.ndarray] = {"x": xyz[:, 0], "y": xyz[:, 1], "z": xyz[:, 2]}
    if intensity is not None:
        cols["intensity"] = intensity
    if rgb is not None:
        cols.update(red=rgb[:, 0], green=rgb[:, 1], blue=rgb[:, 2])
    if fmt == "ascii":
        lines = []
        for k in range(n):
            lines.append(
                " ".join(
                    repr(float(cols[name][k])) if code == "f4" else str(int(cols[name][k]))
                    for name, _t, code in props
                )
            )
        if faces:
            lines += ["3 " + " ".join(map(str, f)) for f in tri]
        body = ("\n".join(lines) + "\n").encode()
    else:
        order = "<" if fmt == "binary_little_endian" else ">"
        rec = np.empty(n, np.dtype([(name, order + code) for name, _t, code in props]))
        for name, _t, _c in props:
            rec[name] = cols[name]
        body = rec.tobytes()
        if faces:
            for f in tri:
                body += struct.pack(order + "B3i", 3, *f)
    path.write_bytes(header + body)


# -- round trips ---------------------------------------------------------------------------


def check_cloud(pc: PointCloud, *, intensity: bool, rgb: bool) -> None:
    assert pc.xyz.dtype == np.float32 and pc.xyz.shape == (N, 3)
    assert pc.xyz.flags.c_contiguous
    np.testing.assert_array_equal(pc.xyz, XYZ)
    if intensity:
        assert pc.intensity is not None and pc.intensity.dtype == np.float32
        np.testing.assert_array_equal(pc.intensity, INTENSITY)
    else:
        assert pc.intensity is None
    if rgb:
        assert pc.rgb is not None and pc.rgb.dtype == np.uint8
        np.testing.assert_array_equal(pc.rgb, RGB)
    else:
        assert pc.rgb is None


def test_kitti_bin(tmp_path: Path) -> None:
    write_bin(tmp_path / "000000.bin", XYZ, INTENSITY)
    check_cloud(read_point_cloud(tmp_path / "000000.bin"), intensity=True, rgb=False)


@pytest.mark.parametrize("cols", [3, 4])
@pytest.mark.parametrize("dtype", ["<f4", "<f8", ">f8"])
def test_npy(tmp_path: Path, cols: int, dtype: str) -> None:
    arr = np.hstack([XYZ, INTENSITY[:, None]])[:, :cols].astype(dtype)
    np.save(tmp_path / "a.npy", arr)
    check_cloud(read_point_cloud(tmp_path / "a.npy"), intensity=cols == 4, rgb=False)


@pytest.mark.parametrize("data", ["ascii", "binary", "binary_compressed"])
@pytest.mark.parametrize("extras", [(False, False), (True, False), (True, True), (False, True)])
def test_pcd(tmp_path: Path, data: str, extras: tuple[bool, bool]) -> None:
    with_i, with_rgb = extras
    path = tmp_path / "a.pcd"
    write_pcd(
        path, XYZ, intensity=INTENSITY if with_i else None, rgb=RGB if with_rgb else None, data=data
    )
    check_cloud(read_point_cloud(path), intensity=with_i, rgb=with_rgb)


def test_pcd_rgb_packed_as_float(tmp_path: Path) -> None:
    """PCL usually stores rgb as TYPE F: the uint32 bits reinterpreted as float32."""
    packed = pack_rgb(RGB).view("<f4")
    header = (
        f"VERSION .7\nFIELDS x y z rgb\nSIZE 4 4 4 4\nTYPE F F F F\nCOUNT 1 1 1 1\n"
        f"WIDTH {N}\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS {N}\nDATA binary\n"
    )
    rec = np.empty(N, [("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("rgb", "<f4")])
    rec["x"], rec["y"], rec["z"], rec["rgb"] = XYZ[:, 0], XYZ[:, 1], XYZ[:, 2], packed
    (tmp_path / "c.pcd").write_bytes(header.encode() + rec.tobytes())
    check_cloud(read_point_cloud(tmp_path / "c.pcd"), intensity=False, rgb=True)


@pytest.mark.parametrize("data", ["ascii", "binary", "binary_compressed"])
def test_pcd_organized_cloud_drops_nan_points(tmp_path: Path, data: str) -> None:
    """PCL writes "no return" as NaN in organized clouds: those points are dropped."""
    xyz = XYZ.copy()
    xyz[[3, 10, 11], 1] = np.nan
    write_pcd(tmp_path / "o.pcd", xyz, intensity=INTENSITY, rgb=RGB, data=data)
    pc = read_point_cloud(tmp_path / "o.pcd")
    keep = np.setdiff1d(np.arange(N), [3, 10, 11])
    np.testing.assert_array_equal(pc.xyz, XYZ[keep])
    np.testing.assert_array_equal(pc.intensity, INTENSITY[keep])
    np.testing.assert_array_equal(pc.rgb, RGB[keep])


def test_lzf_compressor_in_test_really_uses_back_references() -> None:
    raw = np.zeros(1000, "<f4").tobytes() + XYZ.tobytes()
    comp = lzf_compress(raw)
    assert len(comp) < len(raw) - 3000  # zeros compressed through back references
    assert lzf_decompress(comp, len(raw)) == raw


@pytest.mark.parametrize("fmt", ["ascii", "binary_little_endian", "binary_big_endian"])
@pytest.mark.parametrize("extras", [(False, False), (True, False), (True, True)])
@pytest.mark.parametrize("faces", [True, False])
def test_ply(tmp_path: Path, fmt: str, extras: tuple[bool, bool], faces: bool) -> None:
    with_i, with_rgb = extras
    path = tmp_path / "a.ply"
    write_ply(
        path,
        XYZ,
        intensity=INTENSITY if with_i else None,
        rgb=RGB if with_rgb else None,
        fmt=fmt,
        faces=faces,
    )
    check_cloud(read_point_cloud(path), intensity=with_i, rgb=with_rgb)


def test_ply_element_before_vertex_is_skipped(tmp_path: Path) -> None:
    xyz = XYZ[:4]
    header = (
        b"ply\nformat binary_big_endian 1.0\nelement camera 1\nproperty float f\n"
        b"property list uchar short tags\nelement vertex 4\nproperty double x\n"
        b"property double y\nproperty double z\nend_header\n"
    )
    body = struct.pack(">fB3h", 2.5, 3, 1, 2, 3) + xyz.astype(">f8").tobytes()
    (tmp_path / "b.ply").write_bytes(header + body)
    np.testing.assert_array_equal(read_point_cloud(tmp_path / "b.ply").xyz, xyz)


def test_empty_cloud(tmp_path: Path) -> None:
    write_bin(tmp_path / "e.bin", XYZ[:0], INTENSITY[:0])
    pc = read_point_cloud(tmp_path / "e.bin")
    assert pc.xyz.shape == (0, 3) and len(pc) == 0


# -- malformed files -----------------------------------------------------------------------


def _truncate(path: Path, drop: int) -> None:
    path.write_bytes(path.read_bytes()[:-drop])


@pytest.mark.parametrize(
    ("name", "make", "expected"),
    [
        ("t.bin", lambda p: (write_bin(p, XYZ, INTENSITY), _truncate(p, 5)), "multiple of 16"),
        ("t.pcd", lambda p: (write_pcd(p, XYZ), _truncate(p, 5)), "bytes of binary point data"),
        (
            "t.pcd",
            lambda p: (write_pcd(p, XYZ, data="ascii"), _truncate(p, 200)),
            "ASCII point lines",
        ),
        (
            "t.pcd",
            lambda p: (write_pcd(p, XYZ, data="binary_compressed"), _truncate(p, 5)),
            "bytes of LZF data",
        ),
        ("t.pcd", lambda p: p.write_bytes(b"VERSION .7\nFIELDS x y\n"), "header ending in DATA"),
        (
            "t.pcd",
            lambda p: p.write_bytes(
                b"FIELDS a b c\nSIZE 4 4 4\nTYPE F F F\nPOINTS 0\nDATA ascii\n"
            ),
            "x y z",
        ),
        (
            "t.pcd",
            lambda p: p.write_bytes(
                b"FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nPOINTS 1\nDATA ascii\n1 2 oops\n"
            ),
            "numbers per ASCII point line",
        ),
        (
            "t.pcd",
            lambda p: p.write_bytes(
                b"FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nPOINTS 1\nDATA ascii\ninf 2 3\n"
            ),
            "finite",
        ),
        (
            "t.pcd",
            lambda p: p.write_bytes(
                b"FIELDS x y z\nSIZE 4 4 3\nTYPE F F F\nPOINTS 1\nDATA binary\n"
            ),
            "SIZE 1, 2, 4",
        ),
        (
            "t.pcd",
            lambda p: p.write_bytes(b"FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nPOINTS 1\nDATA zip\n"),
            "binary_compressed",
        ),
        (
            "t.ply",
            lambda p: (write_ply(p, XYZ, faces=False), _truncate(p, 3)),
            "bytes for 257 vertex records",
        ),
        (
            "t.ply",
            lambda p: (write_ply(p, XYZ, fmt="ascii", faces=False), _truncate(p, 400)),
            "257 vertices",
        ),
        (
            "t.ply",
            lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100)),
            "starting with 'ply'",
        ),
        ("t.ply", lambda p: p.write_bytes(b"ply\nformat binary_little_endian 1.0\n"), "end_header"),
        (
            "t.ply",
            lambda p: p.write_bytes(
                b"ply\nformat weird 1.0\nelement vertex 0\nproperty float x\nend_header\n"
            ),
            "format ascii",
        ),
        (
            "t.ply",
            lambda p: p.write_bytes(
                b"ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\n"
                b"end_header\n1 2\n"
            ),
            "x y z",
        ),
        (
            "t.ply",
            lambda p: p.write_bytes(
                b"ply\nformat ascii 1.0\nelement vertex 1\nproperty float128 x\nend_header\n"
            ),
            "known type",
        ),
        ("t.npy", lambda p: p.write_bytes(b"garbage, not numpy"), "shape (N, 3) or (N, 4)"),
        ("t.npy", lambda p: np.save(p, np.zeros((4, 5))), "shape (N, 3) or (N, 4)"),
        ("t.npy", lambda p: np.save(p, np.array(["a", "b", "c"])[None]), "float or integer"),
        ("t.npy", lambda p: (np.save(p, XYZ), _truncate(p, 8)), "shape (N, 3) or (N, 4)"),
    ],
)
def test_malformed_files(tmp_path: Path, name: str, make, expected: str) -> None:
    path = tmp_path / name
    make(path)
    with pytest.raises(CorruptMediaError) as info:
        read_point_cloud(path)
    assert type(info.value) is CorruptMediaError
    assert str(path) in str(info.value) and expected in str(info.value), str(info.value)


def test_corrupt_lzf_stream() -> None:
    raw = XYZ.tobytes()
    comp = bytearray(lzf_compress(raw))
    with pytest.raises(CorruptMediaError, match="LZF"):
        lzf_decompress(bytes(comp[:-3]), len(raw))
    with pytest.raises(CorruptMediaError, match="back reference"):
        lzf_decompress(bytes([0x20, 0x05]), 10)  # refers before the start


def test_missing_and_unsupported(tmp_path: Path) -> None:
    with pytest.raises(MissingMediaError):
        read_point_cloud(tmp_path / "nope.bin")
    (tmp_path / "a.las").write_bytes(b"LASF")
    with pytest.raises(UnsupportedMediaError, match=r"\.las"):
        read_point_cloud(tmp_path / "a.las")


# -- validate_points -----------------------------------------------------------------------


def test_validate_points_accepts_and_converts() -> None:
    out = validate_points(np.arange(12, dtype=np.int64).reshape(4, 3), "pts")
    assert out.dtype == np.float32 and out.flags.c_contiguous and out.shape == (4, 3)
    wide = np.asfortranarray(np.ones((5, 4)))
    assert validate_points(wide, "pts").flags.c_contiguous
    assert validate_points(np.zeros((0, 3)), "pts").shape == (0, 3)


@pytest.mark.parametrize(
    ("value", "error", "expected"),
    [
        (np.zeros((5, 2)), ShapeError, "shape (N, 3)"),
        (np.zeros(9), ShapeError, "shape (N, 3)"),
        (np.zeros((2, 3, 3)), ShapeError, "shape (N, 3)"),
        (np.array([["a", "b", "c"]]), ShapeError, "real numeric"),
        (np.zeros((2, 3), dtype=complex), ShapeError, "real numeric"),
        (np.zeros((2, 3), dtype=bool), ShapeError, "real numeric"),
        (np.array([[0, 0, 0], [1, np.nan, 2]]), ValidationError, "row 1"),
        (np.array([[0, 0, np.inf]]), ValidationError, "finite"),
        (np.array([[1e300, 0, 0]]), ValidationError, "float32 range"),
    ],
)
def test_validate_points_rejects(value: np.ndarray, error: type, expected: str) -> None:
    with pytest.raises(error) as info:
        validate_points(value, "points of sweep 3")
    assert type(info.value) is error
    assert "points of sweep 3" in str(info.value) and expected in str(info.value)


def test_point_cloud_checks_extras() -> None:
    with pytest.raises(ShapeError, match="intensity"):
        PointCloud(XYZ, intensity=np.zeros(3))
    with pytest.raises(ShapeError, match="rgb"):
        PointCloud(XYZ, rgb=np.zeros((N, 4), np.uint8))
    pc = PointCloud(XYZ[:2], rgb=np.array([[0.0, 0.5, 1.0], [1.0, 1.0, 0.0]]))
    np.testing.assert_array_equal(pc.rgb, [[0, 128, 255], [255, 255, 0]])


# -- sweeps of a stream --------------------------------------------------------------------


def test_read_sweep_of_sample_scene(sample_scene, session) -> None:
    session.add_item("scene", lidar=sample_scene.lidar, calibration=sample_scene.calibration)
    stream = session.stream("scene", "lidar")
    truth = sample_scene.truth["lidar"]["sweeps"]
    assert sweep_path(stream, 7) == sample_scene.lidar / "000007.bin"
    pc = read_sweep(session, "scene", "lidar", 7)
    assert len(pc) == truth[7]["num_points"] and pc.intensity is not None
    same = read_sweep(stream, 7)
    np.testing.assert_array_equal(pc.xyz, same.xyz)
    np.testing.assert_array_equal(read_sweep(stream, "scene", "lidar", 7).xyz, pc.xyz)
    np.testing.assert_array_equal(read_sweep(stream, None, None, 7).xyz, pc.xyz)
    with pytest.raises(ValidationError, match="read_sweep"):
        read_sweep(stream, "other", "lidar", 7)
    with pytest.raises(ValidationError, match="read_sweep"):
        read_sweep(session, "scene", 7)
    raw = np.fromfile(sample_scene.lidar / "000007.bin", "<f4").reshape(-1, 4)
    np.testing.assert_array_equal(pc.xyz, raw[:, :3])
    with pytest.raises(OutOfBoundsError, match=r"\[0, 99\]"):
        sweep_path(stream, 100)
    with pytest.raises(ValidationError, match="pointcloud"):
        sweep_path(
            session.stream("scene", "lidar").__class__(
                "scene", "cam", "image", uri=str(sample_scene.root)
            ),
            0,
        )


def test_single_file_stream(tmp_path: Path, session) -> None:
    write_pcd(tmp_path / "one.pcd", XYZ, intensity=INTENSITY)
    session.add_item("single", lidar=tmp_path / "one.pcd")
    pc = read_sweep(session, "single", "lidar", 0)
    check_cloud(pc, intensity=True, rgb=False)
