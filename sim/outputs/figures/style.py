"""Look and labels shared by every figure: theme, colour-blind-safe palette, KPI names, saving."""
from __future__ import annotations

import contextlib
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from models.kpi_registry import KPIS, REGISTRY, SHARE_UNITS
from sim.outputs.figures import fonts

DPI = 300  # a journal's resolution for line art with text: figures are never drawn above it
# Widths of a journal page (Nature: 89 mm for one column, 183 mm for two; Elsevier: 90 and 190 mm):
# every figure is one of the two, so it prints at 100 % without rescaling its 7-10 pt text.
MM = 1 / 25.4
SINGLE_COLUMN = 89 * MM  # in
DOUBLE_COLUMN = 180 * MM  # in
FORMATS = ("png", "svg")
PALETTE = "colorblind"  # seaborn's Okabe-Ito-like qualitative palette
SEQUENTIAL = "cividis"  # perceptually uniform, readable with any colour vision
TIER_ORDER = ("village", "township", "county", "outside")
TIER_LABELS = {"village": ("Village clinic", "村卫生室"), "township": ("Township centre", "乡镇卫生院"),
               "county": ("County hospital", "县级医院"), "outside": ("Outside county", "县外")}

# Names, units and policy targets come from the KPI registry (models/kpi_registry.py).
TARGETS: dict[str, tuple[float, str]] = {k.name: (k.target.value, k.target.label) for k in KPIS if k.target}
ENGLISH: dict[str, str] = {k.name: k.en for k in KPIS}


def english(kpi: str) -> str:
    return ENGLISH.get(kpi, kpi.replace("_", " ").capitalize())


def zh(kpi: str) -> str:
    k = REGISTRY.get(kpi)
    return k.zh if k else ""


def unit(kpi: str) -> str:
    k = REGISTRY.get(kpi)
    return k.unit if k else ""


def is_share(kpi: str) -> bool:
    return unit(kpi) in SHARE_UNITS


def unit_label(kpi: str) -> str:
    """Axis unit: shares are drawn as per cent."""
    u = unit(kpi)
    if is_share(kpi):
        return "%" if u in ("share", "year on year") else f"% ({u.removeprefix('share of ')})"
    return u


def delta_unit(kpi: str) -> str:
    """Unit of a difference or effect: shares differ in percentage points."""
    return "percentage points" if is_share(kpi) else unit(kpi)


def short_param(name: str, limit: int = 30) -> str:
    """A dotted config key shortened to its last parts (full names go in captions)."""
    parts = name.split(".")
    while len(".".join(parts)) > limit and len(parts) > 2:
        parts = parts[1:]
    return ".".join(parts)


def kpi_title(kpi: str) -> str:
    """Panel title: English name with the Chinese term where a font renders it."""
    return fonts.with_zh(english(kpi), zh(kpi), "\n")


def axis_label(kpi: str) -> str:
    return f"{english(kpi)} ({unit_label(kpi)})" if unit_label(kpi) else english(kpi)


def tier_label(tier: str, two_lines: bool = False, short: bool = False) -> str:
    en, cn = TIER_LABELS.get(tier, (tier, ""))
    return fonts.with_zh(tier.capitalize() if short else en, cn, "\n" if two_lines else " ")


def format_axis(ax, kpi: str, axis: str = "x") -> None:
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 5, 10]))  # legible on a half-page panel
    if is_share(kpi):
        lo, hi = ax.get_xlim() if axis == "x" else ax.get_ylim()
        target.set_major_formatter(percent_formatter(abs(hi - lo)))


def palette(n: int) -> list:
    return sns.color_palette(PALETTE, n_colors=max(n, 1))


def rc() -> dict:
    out = {}
    out.update(sns.axes_style("whitegrid"))
    out.update(sns.plotting_context("paper", font_scale=1.0))  # 8.8-9.6 pt at the figure's printed size
    out.update(fonts.rc())
    out.update({"svg.hashsalt": "countysim", "savefig.bbox": "standard", "figure.dpi": 100,
                "axes.titleweight": "bold", "axes.titlesize": 9.5, "figure.titlesize": 11,
                "legend.frameon": False, "axes.prop_cycle": matplotlib.cycler(color=palette(10))})
    return out


@contextlib.contextmanager
def theme():
    with matplotlib.rc_context(rc()), fonts.cached_lookups():
        yield


def wrap(label: str, chars: int = 22, at_dots: bool = False) -> str:
    """A row label on lines of about ``chars`` characters (long sweep or parameter labels would
    otherwise squeeze the panels of a page-wide figure); ``at_dots``: a dotted config key may
    also break after a dot."""
    text = str(label).replace(".", ". ") if at_dots else str(label)
    text = textwrap.fill(text, chars, break_long_words=False, break_on_hyphens=False)
    return text.replace(". ", ".") if at_dots else text


def width(panels_across: int) -> float:
    """Figure width for panels side by side: one column for a single panel, else the page width."""
    return SINGLE_COLUMN if panels_across <= 1 else DOUBLE_COLUMN


def new_figure(width_in: float, height: float) -> Figure:
    """A figure not registered with pyplot (no GUI backend, freed when dropped), at most a page wide."""
    if width_in > DOUBLE_COLUMN + 1e-9:
        raise ValueError(f"figure width {width_in:.2f} in is wider than a journal page ({DOUBLE_COLUMN:.2f} in)")
    return Figure(figsize=(width_in, height), layout="constrained")


def title(fig: Figure, text: str, subtitle: str = "") -> None:
    """A one-line bold title in the image; the subtitle (study, statistic, sample size) goes to the
    caption (``save`` appends it), so the image carries no paragraph a journal would crop."""
    fig.suptitle(text, fontweight="bold")
    fig.countysim_note = subtitle


def which(study: str, scenario: str) -> str:
    """``study: scenario X``, or just the name when a run's study and scenario are the same."""
    return study if not scenario or scenario == study else f"{study}: scenario {scenario}"


def percent_formatter(span: float) -> PercentFormatter:
    """Per-cent ticks with as many decimals as a span of ``span`` (a share) needs: 0 from 5 pp up."""
    return PercentFormatter(xmax=1, decimals=0 if span >= 0.05 else 1 if span >= 0.005 else 2)


@dataclass
class FigureResult:
    """One figure: its files and exactly the data it drew."""

    name: str
    title: str
    caption: str
    files: list[Path]
    data: pd.DataFrame
    size_px: tuple[int, int] = (0, 0)
    extra: dict = field(default_factory=dict)


def save(fig: Figure, out_dir: str | Path, name: str, title_text: str, caption: str, data: pd.DataFrame,
         formats: tuple[str, ...] = FORMATS, **extra) -> FigureResult:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for fmt in formats:
        path = out_dir / f"{name}.{fmt}"
        tmp = out_dir / f".{name}.tmp.{fmt}"
        if fmt == "png":
            _write_png(fig, tmp)
        else:
            fig.savefig(tmp, dpi=DPI, format=fmt, metadata={"Date": None} if fmt == "svg" else {})
        tmp.replace(path)
        files.append(path)
        # laid out once: the other formats reuse the positions (None, unlike "none", also skips
        # savefig's layout pass)
        fig.set_layout_engine(None)
    w, h = fig.get_size_inches()
    note = getattr(fig, "countysim_note", "")
    caption = f"{caption} ({note})" if note else caption
    return FigureResult(name, title_text, caption, files, data, _pixels(files, w, h), extra)


def _write_png(fig: Figure, path: Path) -> None:
    """The figure at DPI through Agg: one draw (it lays the figure out once; ``savefig`` lays out in a
    dry-run draw and again in the real one), stored as RGB (the background is opaque) at zlib level 3.
    Same pixels as ``savefig``, encoded in about 60 % of the time (measured on a run's eight figures),
    the file about the same size."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    fig.set_dpi(DPI)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgb = Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3])
    rgb.save(path, format="PNG", compress_level=3, dpi=(DPI, DPI))


def _pixels(files: list[Path], w: float, h: float) -> tuple[int, int]:
    """The raster's own size (Agg rounds inches × dpi to whole pixels its own way)."""
    from PIL import Image

    png = next((p for p in files if p.suffix == ".png"), None)
    if png is None:
        return int(round(w * DPI)), int(round(h * DPI))
    with Image.open(png) as im:
        return im.size


def finite(x) -> bool:
    return x is not None and np.isfinite(x)


def line_with_band(ax, d: pd.DataFrame, x: str, colour, label: str, ms: float = 4.0) -> None:
    """A mean line over ``x`` with its 95 % CI band (where the interval is known)."""
    ax.plot(d[x], d["mean"], marker="o", ms=ms, color=colour, label=label)
    ok = np.isfinite(d["ci_low"]) & np.isfinite(d["ci_high"])
    if ok.any():
        ax.fill_between(d[x][ok], d["ci_low"][ok], d["ci_high"][ok], color=colour, alpha=0.2, lw=0)


def figure_legend(fig, max_cols: int = 3, rename=None, **kwargs) -> None:
    """One legend below the panels with every distinct label of every axis (reference lines,
    series), instead of a legend per panel."""
    handles, labels = [], []
    for ax in fig.axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    if handles:
        shown = [rename(x) for x in labels] if rename else labels
        fig.legend(handles, shown, loc="outside lower center", ncols=min(len(labels), max_cols), **kwargs)
