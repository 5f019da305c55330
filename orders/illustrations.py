"""Simple generated illustrations for the demo catalogue (SVG, no text, so one file serves ja and en).

Real shops upload photographs; the demo draws each product's picture once when it seeds the
catalogue, so a fresh install shows a shop with pictures and nothing is fetched from outside.
"""

from __future__ import annotations

from collections.abc import Callable

WIDTH, HEIGHT = 400, 300


def _frame(background: str, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}">'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="{background}"/>'
        f'<ellipse cx="200" cy="252" rx="120" ry="14" fill="#000" opacity=".08"/>'
        f"{body}</svg>"
    )


def _pouch(colour: str, leaf: str) -> str:
    return (
        f'<path d="M140 70 h120 l12 180 h-144 z" fill="{colour}"/>'
        '<rect x="136" y="58" width="128" height="18" rx="3" fill="#e9e2d0"/>'
        '<rect x="148" y="120" width="104" height="70" rx="6" fill="#f6f1e4"/>'
        f'<path d="M200 132 c22 8 26 30 0 46 c-26 -16 -22 -38 0 -46 z" fill="{leaf}"/>'
        '<path d="M200 136 v40" stroke="#f6f1e4" stroke-width="2"/>'
    )


def _yunomi() -> str:
    return (
        '<path d="M150 90 h100 l-10 160 h-80 z" fill="#f4f4f0" stroke="#c9c9c0" stroke-width="2"/>'
        '<ellipse cx="200" cy="90" rx="50" ry="10" fill="#e4e4dc" stroke="#c9c9c0" stroke-width="2"/>'
        '<path d="M158 140 q21 -14 42 0 t42 0" fill="none" stroke="#2f4f8f" stroke-width="5"/>'
        '<path d="M162 180 q19 -12 38 0 t38 0" fill="none" stroke="#2f4f8f" stroke-width="4"/>'
        '<circle cx="200" cy="215" r="9" fill="#2f4f8f"/>'
    )


def _kyusu() -> str:
    return (
        '<ellipse cx="200" cy="190" rx="80" ry="60" fill="#b5542c"/>'
        '<path d="M270 170 l70 -30 l6 14 l-66 36 z" fill="#a44a25"/>'
        '<path d="M126 180 q-40 -10 -36 -40 q14 6 42 22 z" fill="#a44a25"/>'
        '<ellipse cx="200" cy="135" rx="52" ry="12" fill="#9c4220"/>'
        '<circle cx="200" cy="122" r="10" fill="#8a3a1c"/>'
        '<path d="M140 200 q60 30 120 0" fill="none" stroke="#d07a52" stroke-width="3"/>'
    )


def _chasen() -> str:
    tines = "".join(
        f'<path d="M200 150 Q{200 + dx * 0.5} 200 {200 + dx} 240" stroke="#d8c08a" stroke-width="3" fill="none"/>'
        for dx in range(-48, 49, 8)
    )
    return (
        '<rect x="186" y="50" width="28" height="104" rx="6" fill="#c9a968"/>'
        '<rect x="184" y="140" width="32" height="14" rx="4" fill="#2d2a26"/>' + tines
    )


def _chawan() -> str:
    return (
        '<path d="M110 130 h180 q-6 110 -90 116 q-84 -6 -90 -116 z" fill="#3b2a26"/>'
        '<ellipse cx="200" cy="130" rx="90" ry="18" fill="#5a3f37"/>'
        '<ellipse cx="200" cy="132" rx="76" ry="12" fill="#7a9a3c"/>'
        '<path d="M150 150 q6 30 -4 60" stroke="#a2462e" stroke-width="10" fill="none" stroke-linecap="round"/>'
        '<rect x="176" y="240" width="48" height="10" rx="3" fill="#2a1d1a"/>'
    )


def _gift_box() -> str:
    return (
        '<rect x="110" y="110" width="180" height="140" rx="4" fill="#f3ead7" stroke="#d9caa6" stroke-width="2"/>'
        '<rect x="104" y="96" width="192" height="30" rx="4" fill="#eadcbc"/>'
        '<rect x="190" y="96" width="20" height="154" fill="#b3261e"/>'
        '<path d="M200 96 q-40 -40 -56 -8 q20 14 56 8 z M200 96 q40 -40 56 -8 q-20 14 -56 8 z" fill="#c8372d"/>'
        '<rect x="230" y="150" width="40" height="70" fill="#fff" stroke="#b3261e" stroke-width="2"/>'
    )


def _wagashi() -> str:
    return (
        '<ellipse cx="200" cy="220" rx="140" ry="30" fill="#2d2a26"/>'
        '<ellipse cx="200" cy="214" rx="128" ry="24" fill="#3e3a35"/>'
        '<circle cx="140" cy="185" r="36" fill="#f2a7b8"/>'
        '<circle cx="200" cy="175" r="38" fill="#9cc27a"/>'
        '<circle cx="262" cy="185" r="36" fill="#f5efe0"/>'
        '<path d="M130 170 q10 -8 20 0" stroke="#e07d97" stroke-width="3" fill="none"/>'
        '<path d="M190 160 q10 -10 22 0" stroke="#6f9a4d" stroke-width="3" fill="none"/>'
    )


def _tenugui() -> str:
    dots = "".join(
        f'<circle cx="{x}" cy="{y}" r="6" fill="#f4f1ea"/>' for x in range(125, 290, 30) for y in range(105, 240, 30)
    )
    return (
        '<rect x="100" y="80" width="200" height="170" rx="2" fill="#2b4a7e"/>'
        + dots
        + '<rect x="100" y="200" width="200" height="50" fill="#24406e"/>'
        '<path d="M100 200 h200" stroke="#f4f1ea" stroke-width="2" stroke-dasharray="6 6"/>'
    )


def _ebook() -> str:
    return (
        '<rect x="130" y="50" width="140" height="200" rx="14" fill="#2d2a26"/>'
        '<rect x="142" y="66" width="116" height="164" rx="4" fill="#f6f1e4"/>'
        '<path d="M170 150 h60 q-4 40 -30 42 q-26 -2 -30 -42 z" fill="#5a3f37"/>'
        '<ellipse cx="200" cy="150" rx="30" ry="6" fill="#7a9a3c"/>'
        '<rect x="160" y="90" width="80" height="8" rx="4" fill="#c9bfa6"/>'
        '<rect x="170" y="106" width="60" height="6" rx="3" fill="#ddd4bd"/>'
    )


def _online_class() -> str:
    return (
        '<rect x="96" y="70" width="208" height="140" rx="8" fill="#2d2a26"/>'
        '<rect x="106" y="80" width="188" height="120" rx="2" fill="#dfe9e1"/>'
        '<path d="M70 216 h260 l-18 24 h-224 z" fill="#8f8a80"/>'
        '<circle cx="200" cy="118" r="18" fill="#3e3a35"/>'
        '<path d="M168 176 q32 -40 64 0 z" fill="#3e3a35"/>'
        '<path d="M230 160 h36 q-2 22 -18 24 q-16 -2 -18 -24 z" fill="#5a3f37"/>'
    )


MOTIFS: dict[str, Callable[[], str]] = {
    "sencha": lambda: _frame("#e8f0dc", _pouch("#557a2f", "#8fbf4a")),
    "matcha": lambda: _frame("#eef5e0", _pouch("#2f6b3a", "#a5d16a")),
    "hojicha": lambda: _frame("#f3e8dc", _pouch("#7a4a2b", "#c28a5c")),
    "yunomi": lambda: _frame("#e6ecf5", _yunomi()),
    "kyusu": lambda: _frame("#f5e6dc", _kyusu()),
    "chasen": lambda: _frame("#f3efe2", _chasen()),
    "chawan": lambda: _frame("#efe6e0", _chawan()),
    "gift": lambda: _frame("#f7ece6", _gift_box()),
    "wagashi": lambda: _frame("#f6eef0", _wagashi()),
    "tenugui": lambda: _frame("#e4eaf3", _tenugui()),
    "ebook": lambda: _frame("#efece4", _ebook()),
    "online_class": lambda: _frame("#e3efe8", _online_class()),
}


def illustration_svg(motif: str) -> bytes:
    """The SVG document for one of ``MOTIFS``."""
    return MOTIFS[motif]().encode()
