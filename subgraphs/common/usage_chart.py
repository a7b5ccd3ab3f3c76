"""The cost-sharing report as a bar chart (PNG) a finance section can paste into a document.

One bar per municipality, stacked by platform, height = principal-days (distinct users per day) in the month,
its total written above it. Drawn with matplotlib's Agg backend (no display needed). Municipality names are
shown in Japanese only when a Japanese-capable font is installed; otherwise in romaji with the code, because
matplotlib would draw missing glyphs as empty boxes.
"""

from __future__ import annotations

from pathlib import Path

from subgraphs.common.municipality import MUNICIPALITIES, PLATFORMS
from subgraphs.common.usage_report import ReportRow, romaji

# Families known to carry the JIS X 0208 kanji the municipality names use.
JAPANESE_FONTS = ("Noto Sans CJK JP", "Noto Sans JP", "Source Han Sans JP", "IPAexGothic", "IPAGothic",
                  "IPAPGothic", "TakaoGothic", "VL Gothic", "Yu Gothic", "Hiragino Sans", "Meiryo", "MS Gothic")
PLATFORM_COLOURS = {"childcare": "#1b9e77", "safety": "#d95f02", "currency": "#7570b3", "identity": "#e7298a"}


def japanese_font() -> str | None:
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in JAPANESE_FONTS if name in installed), None)


def municipality_label(code: str, japanese: bool) -> str:
    known = MUNICIPALITIES.get(code)
    if japanese and known:
        return f"{known.name}\n{code}"
    return f"{romaji(code)}\n{code}"


def draw_chart(month: str, rows: list[ReportRow], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")   # no display: a server, a CI runner, a staff terminal's batch job
    import matplotlib.pyplot as plt

    font = japanese_font()
    rows = [r for r in rows if r.platform_share_percent is not None]   # trial use is on the CSV only, apart
    codes = sorted({r.line.municipality_code for r in rows})
    platforms = [p for p in PLATFORMS if any(r.line.platform == p for r in rows)]
    height = {(p, c): 0 for p in platforms for c in codes}
    for row in rows:
        height[(row.line.platform, row.line.municipality_code)] += row.line.principal_days

    rc = {"font.family": font} if font else {}
    with plt.rc_context(rc):
        figure, axes = plt.subplots(figsize=(11, 5.5), dpi=150)
        positions = list(range(len(codes)))
        bottoms = [0] * len(codes)
        for platform in platforms:
            values = [height[(platform, c)] for c in codes]
            axes.bar(positions, values, bottom=bottoms, label=platform, color=PLATFORM_COLOURS.get(platform),
                     edgecolor="white", width=0.7)
            bottoms = [b + v for b, v in zip(bottoms, values)]
        for x, total in zip(positions, bottoms):
            axes.annotate(f"{total:,}", (x, total), ha="center", va="bottom", fontsize=10,
                          xytext=(0, 3), textcoords="offset points")
        axes.set_xticks(positions, [municipality_label(c, font is not None) for c in codes], fontsize=9)
        axes.set_ylabel("principal-days (distinct users per day)")
        axes.set_title(f"kyodo co-use by municipality and platform, {month}", fontsize=13)
        axes.set_ylim(0, max(bottoms + [1]) * 1.15)
        axes.spines[["top", "right"]].set_visible(False)
        axes.yaxis.get_major_locator().set_params(integer=True)
        if platforms:
            axes.legend(title="platform", frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        else:
            axes.text(0.5, 0.5, "no usage recorded this month", transform=axes.transAxes, ha="center",
                      va="center", fontsize=14, color="#666666")
            axes.set_xticks([])
        figure.text(0.01, 0.01, "Counted once per person per day per application; "
                    "details per connected application in the CSV.", fontsize=8, color="#555555")
        figure.tight_layout(rect=(0, 0.03, 1, 1))
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, format="png")
        plt.close(figure)
    return path
