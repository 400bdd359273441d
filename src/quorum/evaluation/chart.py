"""The leaderboard as an SVG chart: each entry's score as a dot with its interval as a bar."""

from html import escape

from quorum.evaluation.schemas import Leaderboard

ROW_HEIGHT = 28
LABEL_WIDTH = 320
PLOT_WIDTH = 420
MARGIN = 16


def leaderboard_svg(board: Leaderboard) -> str:
    """A self-contained SVG; provisional entries are drawn hollow, unscored ones are listed."""
    scored = [e for e in board.entries if e.score is not None]
    low = min((e.lower for e in scored if e.lower is not None), default=900.0)
    high = max((e.upper for e in scored if e.upper is not None), default=1100.0)
    span = max(high - low, 1.0)

    def x(value: float) -> float:
        return LABEL_WIDTH + (value - low) / span * PLOT_WIDTH

    height = MARGIN * 3 + ROW_HEIGHT * max(len(board.entries), 1)
    width = LABEL_WIDTH + PLOT_WIDTH + MARGIN * 2
    title = f"{board.campaign}" + (f" — {board.category}" if board.category else "")
    if board.style_controlled:
        title += " (style controlled)"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<text x="{MARGIN}" y="{MARGIN + 4}" font-weight="bold">{escape(title)}</text>',
    ]
    for row, entry in enumerate(board.entries):
        y = MARGIN * 2 + ROW_HEIGHT * row + ROW_HEIGHT / 2
        rank = entry.rank if entry.rank is not None else "-"
        label = f"{rank}. {entry.model} {entry.version}"
        if entry.label:
            label += f" [{entry.label}]"
        label += f" #{entry.fingerprint[:8]}"
        parts.append(f'<text x="{MARGIN}" y="{y + 4:.1f}">{escape(label)}</text>')
        if entry.score is None or entry.lower is None or entry.upper is None:
            parts.append(f'<text x="{LABEL_WIDTH}" y="{y + 4:.1f}" fill="#888">no judgments</text>')
            continue
        parts.append(
            f'<line x1="{x(entry.lower):.1f}" y1="{y:.1f}" x2="{x(entry.upper):.1f}" '
            f'y2="{y:.1f}" stroke="#4a6fa5" stroke-width="3"/>'
        )
        fill = "white" if entry.provisional else "#1f3b66"
        parts.append(
            f'<circle cx="{x(entry.score):.1f}" cy="{y:.1f}" r="5" fill="{fill}" '
            f'stroke="#1f3b66" stroke-width="2"><title>{entry.score:.0f} '
            f"({entry.lower:.0f}-{entry.upper:.0f}), {entry.judgments} judgments</title></circle>"
        )
    parts.append("</svg>")
    return "\n".join(parts)
