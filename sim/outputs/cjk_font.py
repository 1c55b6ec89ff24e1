"""The project's own CJK font, for figures and the HTML report on any machine.

``sim/outputs/fonts/`` ships Countysim Sans CJK SC, Regular and Bold: Noto Sans CJK SC (SIL Open
Font License 1.1, ``fonts/OFL.txt``) cut down to the 3,755 first-level characters of GB 2312 (常用字),
every Chinese character in the project's configs, data and docs, and CJK punctuation.  It was renamed
because the OFL asks a modified font not to carry the original's name.  Figures register it with
matplotlib; the report embeds a further subset holding only the characters on the page (WOFF in an
``@font-face``), so a reader needs no Chinese system font.

``python -m sim.outputs.cjk_font /usr/share/fonts/opentype/noto`` rebuilds the files from Debian's
``fonts-noto-cjk`` (the Noto Sans CJK ``.ttc`` collections).
"""
from __future__ import annotations

import base64
import io
import re
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

FOLDER = Path(__file__).resolve().parent / "fonts"
FAMILY = "Countysim Sans CJK SC"
FILES = {"normal": FOLDER / "CountysimSansCJKSC-Regular.otf", "bold": FOLDER / "CountysimSansCJKSC-Bold.otf"}
SOURCE_FILES = {"normal": "NotoSansCJK-Regular.ttc", "bold": "NotoSansCJK-Bold.ttc"}
SOURCE_FACE = "Noto Sans CJK SC"
# CJK symbols and punctuation, fullwidth forms, and the ranges of CJK characters
PUNCTUATION = [*range(0x3000, 0x3040), *range(0xFF01, 0xFF66)]
CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")


def cjk_chars(text: str) -> str:
    """The distinct CJK characters of ``text``, sorted."""
    return "".join(sorted(set(CJK.findall(text))))


@lru_cache(maxsize=1)
def charmap() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    return frozenset(TTFont(FILES["normal"], lazy=True).getBestCmap())


def missing(text: str) -> str:
    """CJK characters of ``text`` the shipped font has no glyph for."""
    cmap = charmap()
    return "".join(c for c in cjk_chars(text) if ord(c) not in cmap)


def woff_subset(weight: str, text: str) -> bytes:
    """The shipped font of ``weight`` cut to the CJK characters of ``text``, as WOFF."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(FILES[weight])
    options = subset.Options()
    options.flavor = "woff"
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]  # keep the copyright and licence (OFL condition 2)
    options.notdef_outline = True
    sub = subset.Subsetter(options)
    sub.populate(unicodes=[ord(c) for c in cjk_chars(text)])
    sub.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def font_face_css(text: str) -> str:
    """``@font-face`` rules, regular and bold, embedding exactly the CJK characters of ``text``."""
    rules = []
    for weight, css_weight in (("normal", 400), ("bold", 700)):
        data = base64.b64encode(woff_subset(weight, text)).decode("ascii")
        rules.append(f"@font-face{{font-family:'{FAMILY}';font-weight:{css_weight};font-style:normal;"
                     f"src:url(data:font/woff;base64,{data}) format('woff')}}")
    return "\n".join(rules)


# ---------------------------------------------------------------------- rebuilding the shipped files
def _gb2312_level1() -> str:
    chars = []
    for hi in range(0xB0, 0xD8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.append(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return "".join(chars)


def _project_text(root: Path) -> str:
    """Every tracked text file of the project (configs, data, docs, code)."""
    names = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True).stdout.split()
    text = []
    for name in names:
        if name.endswith((".py", ".md", ".yaml", ".csv", ".txt")):
            text.append((root / name).read_text(encoding="utf-8", errors="ignore"))
    return "".join(text)


def charset(root: Path) -> list[int]:
    return sorted({ord(c) for c in _gb2312_level1() + cjk_chars(_project_text(root))} | set(PUNCTUATION))


def _rename(font, weight: str) -> None:
    style = "Bold" if weight == "bold" else "Regular"
    postscript = f"{FAMILY.replace(' ', '')}-{style}"
    names = {1: FAMILY, 2: style, 3: f"countysim:{postscript}", 4: f"{FAMILY} {style}", 6: postscript,
             16: FAMILY, 17: style}
    table = font["name"]
    table.names = [n for n in table.names if n.nameID not in names and n.nameID not in (18, 21, 22)]
    for name_id, value in names.items():
        table.setName(value, name_id, 3, 1, 0x409)
        table.setName(value, name_id, 1, 0, 0)
    if "CFF " in font:
        cff = font["CFF "].cff
        top = cff.topDictIndex[0]
        cff.fontNames = [postscript]
        top.FamilyName, top.FullName = FAMILY, f"{FAMILY} {style}"


def build(source_dir: str | Path, out_dir: Path = FOLDER) -> dict[str, int]:
    """Rebuild the shipped files from the Noto Sans CJK collections in ``source_dir``; returns their sizes."""
    from fontTools import subset
    from fontTools.ttLib import TTCollection

    codes = charset(Path(__file__).resolve().parents[2])
    sizes = {}
    for weight, src in SOURCE_FILES.items():
        collection = TTCollection(Path(source_dir) / src)
        font = next(f for f in collection.fonts if f["name"].getDebugName(1) == SOURCE_FACE)
        options = subset.Options()
        options.layout_features = ["kern", "palt", "locl"]
        options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
        options.notdef_outline = True
        options.hinting = False
        sub = subset.Subsetter(options)
        sub.populate(unicodes=codes)
        sub.subset(font)
        _rename(font, weight)
        font.save(out_dir / FILES[weight].name)
        sizes[FILES[weight].name] = (out_dir / FILES[weight].name).stat().st_size
    return sizes


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m sim.outputs.cjk_font FOLDER_WITH_NotoSansCJK-Regular.ttc")
    for file, size in build(sys.argv[1]).items():
        print(f"{file}: {size / 1e6:.2f} MB")
