"""Rebuild ICU's data library (libicudata.so.NN) keeping only what a French centre needs.

Qt Core in the PySide6 wheels for Linux links to its own ICU, whose data library holds the
whole CLDR (31 MB): collation, names of languages, currencies, units and time zones for
every locale of the world, transliterators, Asian dictionaries and legacy Asian encodings.
Qt uses ICU for collation (locale-aware sorting), case mapping, text boundaries, time-zone
names and conversions to encodings it does not implement itself; its own locale data
(QLocale) does not come from ICU. This keeps:

- every non-locale item (Unicode properties, normalisation, likely subtags, supplemental,
  time-zone rules, plural rules, collation's root table…);
- the locale items of ``root``, ``fr*`` and ``en*`` (ICU falls back to root for the others,
  as it does for any locale it lacks);
- the single-byte encodings (Latin, Windows-125x, Cyrillic…), where a CSV may come from.

It drops the transliterators, the break-iteration dictionaries (Chinese/Japanese, Thai,
Khmer, Lao, Burmese words) and the multi-byte Asian encodings. 31 MB become about 4 MB.

The library is an ELF shared object exporting one symbol, ``icudtNN_dat``: ICU's "common
data" archive (a header, a table of contents, then the items). The new archive is written
with the same layout and assembled into a library of the same name and symbol with the
binutils that PyInstaller already needs on Linux (``as``, ``ld``).

Usage: python tools/slim_icu.py SOURCE_LIBICUDATA OUTPUT_LIBICUDATA
"""

from __future__ import annotations

import re
import struct
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

KEPT_LANGUAGES = frozenset({"root", "fr", "en"})
# Whole trees nobody in the application uses: transliteration (Qt has no API for it).
DROPPED_TREES = frozenset({"translit"})
# A locale item is named after its locale: fr, fr_CA, sr_Latn_BA, es_419, de__PHONEBOOK.
_LOCALE_ITEM = re.compile(r"(?P<language>[a-z]{2,3}|root)(?:_[A-Za-z0-9]*)*\.res")
# Items that look like a locale but are the index of a tree.
_NOT_LOCALES = frozenset({"res_index.res"})
_ALIGNMENT = 16  # ICU aligns every item of a common data archive on 16 bytes


def _u16(data: bytes, offset: int) -> int:
    return int(struct.unpack_from("<H", data, offset)[0])


def _u32(data: bytes, offset: int) -> int:
    return int(struct.unpack_from("<I", data, offset)[0])


def _u64(data: bytes, offset: int) -> int:
    return int(struct.unpack_from("<Q", data, offset)[0])


def read_library(path: Path) -> tuple[str, bytes]:
    """The data symbol's name and bytes of an ICU data library (ELF64 little-endian)."""
    elf = path.read_bytes()
    if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
        raise ValueError(f"{path}: not a 64-bit little-endian ELF library")
    shoff, shentsize, shnum = _u64(elf, 0x28), _u16(elf, 0x3A), _u16(elf, 0x3C)
    sections = []
    for index in range(shnum):
        base = shoff + index * shentsize
        sections.append(
            {
                "type": _u32(elf, base + 0x04),
                "addr": _u64(elf, base + 0x10),
                "offset": _u64(elf, base + 0x18),
                "size": _u64(elf, base + 0x20),
                "link": _u32(elf, base + 0x28),
                "entsize": _u64(elf, base + 0x38),
            }
        )
    dynsym = next(s for s in sections if s["type"] == 11)  # SHT_DYNSYM
    strtab = sections[dynsym["link"]]
    for offset in range(dynsym["offset"], dynsym["offset"] + dynsym["size"], dynsym["entsize"]):
        name_at = strtab["offset"] + _u32(elf, offset)
        name = elf[name_at : elf.index(b"\0", name_at)].decode()
        value, size = _u64(elf, offset + 0x08), _u64(elf, offset + 0x10)
        if re.fullmatch(r"icudt\d+_dat", name) and size:
            holder = next(
                s
                for s in sections
                if s["addr"] <= value < s["addr"] + s["size"] and s["type"] != 8  # not NOBITS
            )
            start = holder["offset"] + value - holder["addr"]
            return name, elf[start : start + size]
    raise ValueError(f"{path}: no icudtNN_dat symbol")


def parse(data: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
    """The header and the (name, bytes) items of a common data archive."""
    header_size = _u16(data, 0)
    if data[2:4] != b"\xda\x27" or data[12:16] != b"CmnD":
        raise ValueError("not an ICU common data archive")
    toc = data[header_size:]
    count = _u32(toc, 0)
    entries = [struct.unpack_from("<II", toc, 4 + 8 * i) for i in range(count)]
    ends = [data_offset for _, data_offset in entries[1:]] + [len(toc)]
    items = []
    for (name_offset, data_offset), end in zip(entries, ends, strict=True):
        name = toc[name_offset : toc.index(b"\0", name_offset)].decode("ascii")
        items.append((name, toc[data_offset:end]))
    return data[:header_size], items


def build(header: bytes, items: Iterable[tuple[str, bytes]]) -> bytes:
    """A common data archive of these items, laid out as ICU's own tools do."""
    entries = list(items)
    names = b"".join(name.encode("ascii") + b"\0" for name, _ in entries)
    toc_size = 4 + 8 * len(entries)
    names_start = toc_size
    data_start = names_start + len(names)
    data_start += -data_start % _ALIGNMENT
    table, blobs, name_at, data_at = [], [], names_start, data_start
    for name, blob in entries:
        table.append(struct.pack("<II", name_at, data_at))
        name_at += len(name) + 1
        blob += b"\0" * (-len(blob) % _ALIGNMENT)
        blobs.append(blob)
        data_at += len(blob)
    toc = struct.pack("<I", len(entries)) + b"".join(table) + names
    toc += b"\xaa" * (data_start - len(toc))  # ICU's pkgdata pads with 0xAA
    return header + toc + b"".join(blobs)


def _single_byte_converter(blob: bytes) -> bool:
    # UConverterStaticData after the item's header: structSize, name[60], codepage,
    # platform, conversionType, minBytesPerChar, maxBytesPerChar.
    return blob[_u16(blob, 0) + 71] == 1


def keep(name: str, blob: bytes) -> bool:
    """Whether an item (named like ``icudt73l/coll/fr.res``) stays in the slim archive."""
    parts = name.split("/")[1:]
    if len(parts) > 1 and parts[0] in DROPPED_TREES:
        return False
    base = parts[-1]
    if base.endswith(".dict"):  # word dictionaries of scripts without spaces
        return False
    if base.endswith(".cnv"):
        return _single_byte_converter(blob)
    locale = _LOCALE_ITEM.fullmatch(base)
    if locale and base not in _NOT_LOCALES:
        return locale.group("language") in KEPT_LANGUAGES
    return True


def slim(data: bytes, kept: Callable[[str, bytes], bool] = keep) -> bytes:
    header, items = parse(data)
    return build(header, [(name, blob) for name, blob in items if kept(name, blob)])


def write_library(data: bytes, symbol: str, soname: str, output: Path) -> None:
    """Assemble ``data`` into a shared library exporting it as ``symbol`` (binutils)."""
    with tempfile.TemporaryDirectory() as work:
        blob, source, obj = (Path(work) / n for n in ("data.bin", "data.s", "data.o"))
        blob.write_bytes(data)
        source.write_text(
            f"\t.section .rodata\n\t.balign {_ALIGNMENT}\n\t.globl {symbol}\n"
            f'\t.type {symbol}, @object\n{symbol}:\n\t.incbin "{blob}"\n'
            f"\t.size {symbol}, . - {symbol}\n"
            '\t.section .note.GNU-stack,"",@progbits\n'
        )
        subprocess.run(["as", "-o", str(obj), str(source)], check=True)
        subprocess.run(
            ["ld", "-shared", "-soname", soname, "-o", str(output), str(obj)], check=True
        )


def slim_library(source: Path, output: Path) -> tuple[int, int]:
    """Write the slim copy of ``source`` to ``output``; returns both archive sizes."""
    symbol, data = read_library(source)
    slimmed = slim(data)
    write_library(slimmed, symbol, source.name, output)
    return len(data), len(slimmed)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    before, after = slim_library(Path(argv[0]), Path(argv[1]))
    print(f"ICU data: {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
