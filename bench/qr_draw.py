"""Milliseconds to draw one status link's QR code, cold and kept drawn, SVG and PNG; with another
checkout, interleaved A/B against its `intake/documents/qr.py`.

    python bench/qr_draw.py [OTHER_CHECKOUT] [ROUNDS]

Cold: a link not drawn before in the process (its encoding too). Kept: the same link again.
After page: the PNG of a link whose SVG was drawn (the status page, then its download). Each
round times a block of 20 draws per case and code, the codes alternating within the round, so
both meet the same moment of a shared machine; the figures are medians over all draws, and the
spread the lowest and highest of the rounds' medians.
"""

from __future__ import annotations

import importlib.util
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from intake.documents import qr

BLOCK = 20


def module_of(checkout: Path) -> ModuleType:
    """The QR module of another checkout, loaded beside this one's (it imports no intake)."""
    spec = importlib.util.spec_from_file_location(f"qr_{checkout.name}",
                                                  checkout / "intake" / "documents" / "qr.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def link() -> str:
    return f"https://intake.example.org/s/{secrets.token_urlsafe(16)}"  # as status_url makes


def cases(code: ModuleType) -> dict[str, tuple[Callable[[str], object], Callable[[], str]]]:
    """Each case: what is drawn, and the link to draw (found or prepared untimed)."""
    kept = link()
    code.svg(kept), code.png(kept)

    def page_seen() -> str:
        url = link()
        code.svg(url)
        return url

    return {"SVG cold": (code.svg, link), "SVG kept": (code.svg, lambda: kept),
            "PNG cold": (code.png, link), "PNG kept": (code.png, lambda: kept),
            "PNG after page": (code.png, page_seen)}


def shown(ms: float) -> str:
    return f"{ms:.2f}" if ms >= 0.1 else f"{ms:.4f}"


def main() -> None:
    other = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    codes = {"this": qr, **({"other": module_of(other)} if other else {})}
    timed = {name: cases(code) for name, code in codes.items()}
    draws: dict[tuple[str, str], list[float]] = {}
    medians: dict[tuple[str, str], list[float]] = {}
    for number in range(rounds):
        order = list(codes) if number % 2 == 0 else list(reversed(codes))
        for case in timed["this"]:
            for name in order:
                (draw, url_of), block = timed[name][case], []
                for _ in range(BLOCK):
                    url = url_of()
                    started = time.perf_counter()
                    draw(url)
                    block.append((time.perf_counter() - started) * 1000)
                draws.setdefault((name, case), []).extend(block)
                medians.setdefault((name, case), []).append(statistics.median(block))
    print(f"| case | {' | '.join(f'{name} ms (spread)' for name in codes)} |")
    print(f"|---|{'---|' * len(codes)}")
    for case in timed["this"]:
        cells = [f"{shown(statistics.median(draws[name, case]))} "
                 f"({shown(min(medians[name, case]))}-{shown(max(medians[name, case]))})"
                 for name in codes]
        print(f"| {case} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
