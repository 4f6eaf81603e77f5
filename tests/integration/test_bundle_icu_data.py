"""The bundle's slim ICU data (tools/slim_icu.py): Qt's ICU still collates, names languages
and converts single-byte encodings in French, and the other locales' data is really gone.

ICU is exercised through its C API (ctypes) in a child process that loads the copied
libraries, so the test process's own Qt (and its full ICU) is never involved.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="only the Linux PySide6 wheels ship ICU"
)

# Run in a fresh interpreter with the libraries of one directory.
PROBE = r"""
import ctypes, json, sys
from pathlib import Path
lib = Path(sys.argv[1])
version = sys.argv[2]
for name in ("data", "uc", "i18n"):
    ctypes.CDLL(str(lib / f"libicu{name}.so.{version}"), mode=ctypes.RTLD_GLOBAL)
uc = ctypes.CDLL(str(lib / f"libicuuc.so.{version}"))
i18n = ctypes.CDLL(str(lib / f"libicui18n.so.{version}"))
def fn(library, name, restype, *argtypes):
    f = getattr(library, f"{name}_{version}")
    f.restype, f.argtypes = restype, list(argtypes)
    return f
status_p = ctypes.POINTER(ctypes.c_int)
ucol_open = fn(i18n, "ucol_open", ctypes.c_void_p, ctypes.c_char_p, status_p)
strcoll = fn(i18n, "ucol_strcollUTF8", ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p,
             ctypes.c_int32, ctypes.c_char_p, ctypes.c_int32, status_p)
display = fn(uc, "uloc_getDisplayLanguage", ctypes.c_int32, ctypes.c_char_p, ctypes.c_char_p,
             ctypes.POINTER(ctypes.c_uint16), ctypes.c_int32, status_p)
ucnv_open = fn(uc, "ucnv_open", ctypes.c_void_p, ctypes.c_char_p, status_p)
out = {}
status = ctypes.c_int(0)
french = ucol_open(b"fr", ctypes.byref(status))
a, b = "éclair".encode(), "ecrire".encode()
out["eclair_vs_ecrire"] = strcoll(french, a, len(a), b, len(b), ctypes.byref(status))
status = ctypes.c_int(0)
ucol_open(b"ja", ctypes.byref(status))
out["ja_collator_status"] = status.value
for shown_in in ("fr", "ja"):
    status = ctypes.c_int(0)
    buffer = (ctypes.c_uint16 * 64)()
    length = display(b"de", shown_in.encode(), buffer, 64, ctypes.byref(status))
    out["german_in_" + shown_in] = bytes(buffer)[: 2 * length].decode("utf-16-le")
for encoding in ("ISO-8859-15", "ibm-5348_P100-1997", "Shift_JIS"):
    status = ctypes.c_int(0)
    ucnv_open(encoding.encode(), ctypes.byref(status))
    out["converter " + encoding] = status.value
print(json.dumps(out))
"""

U_USING_DEFAULT_WARNING = -127  # the locale's data is missing: root's was used
U_FILE_ACCESS_ERROR = 4


def _slim_icu() -> ModuleType:
    spec = importlib.util.spec_from_file_location("slim_icu", ROOT / "tools" / "slim_icu.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _qt_lib() -> Path:
    found = importlib.util.find_spec("PySide6")
    assert found and found.submodule_search_locations
    return Path(next(iter(found.submodule_search_locations))) / "Qt" / "lib"


def _icu_data() -> Path:
    return next(_qt_lib().glob("libicudata.so.*"))


def _probe(directory: Path, version: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(directory), version],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        # ICU's default locale (its last fallback) from the environment: English here.
        env={**os.environ, "LC_ALL": "C.UTF-8"},
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_archive_rewritten_with_all_its_items_is_byte_identical() -> None:
    slim_icu = _slim_icu()
    _, data = slim_icu.read_library(_icu_data())
    header, items = slim_icu.parse(data)
    assert len(items) > 1000
    assert slim_icu.build(header, items) == data


def test_slim_icu_keeps_french_and_drops_other_locales(tmp_path: Path) -> None:
    slim_icu = _slim_icu()
    source = _icu_data()
    version = source.name.rsplit(".", 1)[1]
    full, slim = tmp_path / "full", tmp_path / "slim"
    full.mkdir()
    slim.mkdir()
    for name in ("uc", "i18n", "data"):
        shutil.copy2(_qt_lib() / f"libicu{name}.so.{version}", full)
    for name in ("uc", "i18n"):
        shutil.copy2(_qt_lib() / f"libicu{name}.so.{version}", slim)

    before, after = slim_icu.slim_library(source, slim / source.name)

    assert after < before / 4
    assert (slim / source.name).stat().st_size < 8_000_000
    with_all, slimmed = _probe(full, version), _probe(slim, version)
    # What a French centre uses: accent-aware collation (a byte order would put « é »
    # after « r »), names in French, single-byte encodings such as Windows-1252.
    assert slimmed["eclair_vs_ecrire"] == -1
    assert slimmed["german_in_fr"] == with_all["german_in_fr"] == "allemand"
    assert slimmed["converter ISO-8859-15"] == 0
    assert slimmed["converter ibm-5348_P100-1997"] == 0  # Windows-1252
    # What was dropped is really gone (the full data has it), and ICU falls back without
    # failing: root's collation, the default locale's names, an error for the encoding.
    assert with_all["ja_collator_status"] == 0
    assert slimmed["ja_collator_status"] == U_USING_DEFAULT_WARNING
    assert with_all["german_in_ja"] == "ドイツ語"
    assert slimmed["german_in_ja"] == "German"
    assert isinstance(with_all["converter Shift_JIS"], int)
    assert with_all["converter Shift_JIS"] <= 0
    assert slimmed["converter Shift_JIS"] == U_FILE_ACCESS_ERROR
