"""bench/SCALE.md and its plots (bench/scale/*.png) from bench/scale.py's results."""

from __future__ import annotations

import datetime as dt
import os
import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from run import REPO

NOTE = REPO / "bench" / "SCALE.md"
PLOTS = REPO / "bench" / "scale"
FULL = 1_000_000
KB = 1000


@dataclass(frozen=True)
class Figure:
    label: str
    value: Callable[[dict[str, Any]], float | None]  # None: not measured at that N
    fmt: str = "{:,.1f}"
    # The target at the largest N: (its words, whether it is met given the figures by N).
    target: tuple[str, Callable[[dict[int, float]], bool]] | None = None
    flat: bool = False  # a latency: at the largest N within 1.5x of the smallest
    plot: bool = True
    star: Callable[[dict[str, Any]], bool] | None = None  # a mark on some values


def _within(by_n: dict[int, float]) -> bool:
    return by_n[max(by_n)] <= 1.5 * by_n[min(by_n)]


def _at_most(limit: float) -> Callable[[dict[int, float]], bool]:
    return lambda by_n: by_n[max(by_n)] < limit


def _at_least(limit: float) -> Callable[[dict[int, float]], bool]:
    return lambda by_n: by_n[max(by_n)] >= limit


def _mixed(kind: str, what: str = "p99_ms") -> Callable[[dict[str, Any]], float]:
    return lambda f: float(f["mixed"][kind][what])


def _per_registration(part: Callable[[dict[str, Any]], float]) -> Callable[[dict[str, Any]], float]:
    return lambda f: part(f) / f["size"]["registrations"] / KB


def _phase_rate(label: str) -> Callable[[dict[str, Any]], float | None]:
    """Items a second of a rotation's phase; 0 where it had none to do; None (not measured)
    where the rotation was stopped before the phase ended."""
    def rate(figures: dict[str, Any]) -> float | None:
        phase = figures["rotation"].get("phases", {}).get(label)
        if phase and phase["seconds"]:
            return float(phase["done"] / phase["seconds"])
        return None if figures["rotation"]["capped"] else 0.0
    return rate


def _counting(figures: dict[str, Any]) -> float | None:
    """Seconds before the first value; None when the rotation was stopped in its values,
    where the time taken does not tell the counting apart."""
    rotation = figures["rotation"]
    working = rotation.get("phases", {}).get("re-encrypting values", {}).get("seconds")
    return None if rotation["capped"] and not working else rotation.get("counting_seconds", 0.0)


FIGURES = [
    Figure("registrations in the database when measured", lambda f: f["size"]["registrations"],
           "{:,.0f}", plot=False),
    Figure("seeding, households/s", lambda f: f["seed"]["households"] / f["seed"]["seconds"],
           "{:,.0f}"),
    Figure("registrations accepted/s (32 connections)", lambda f: f["registrations"]["per_second"],
           "{:,.0f}", (">= 500/s", _at_least(500))),
    Figure("registrations p99 ms", lambda f: f["registrations"]["p99_ms"],
           target=("< 250 ms", _at_most(250)), flat=True),
    Figure("mixed: status page p99 ms", _mixed("status page"), flat=True),
    Figure("mixed: slots listing p99 ms", _mixed("slots listing"), flat=True),
    Figure("mixed: desk search p99 ms", _mixed("desk search"), flat=True),
    Figure("mixed: registrations p99 ms", _mixed("registrations (mixed)"), flat=True),
    Figure("mixed: requests/s, all four kinds", lambda f: sum(
        kind["per_second"] for kind in f["mixed"].values()), "{:,.0f}"),
    Figure("mixed: errors (non-2xx/3xx, timeouts)", lambda f: sum(
        kind["errors"] for kind in f["mixed"].values()), "{:,.0f}", plot=False),
    Figure("duplicate check median ms", lambda f: f["duplicate_check"]["median_ms"], "{:,.2f}",
           flat=True),
    Figure("duplicate check p99 ms", lambda f: f["duplicate_check"]["p99_ms"], "{:,.2f}",
           flat=True),
    Figure("batch of 5,000 assembled + written, s", lambda f: f["batch"]["seconds"], "{:,.2f}",
           flat=True),
    Figure("retention sweep: registrations erased", lambda f: f["retention"]["registrations"],
           "{:,.0f}", plot=False),
    Figure("retention sweep: registrations/s (* stopped short of 100,000)",
           lambda f: f["retention"]["per_second"], "{:,.0f}", (">= 5,000/s", _at_least(5000)),
           star=lambda f: f["retention"]["capped"]),
    Figure("key rotation of the whole database, s (* extrapolated)",
           lambda f: f["rotation"]["whole_seconds"], "{:,.0f}",
           ("< 1,800 s (30 min)", _at_most(1800)), star=lambda f: f["rotation"]["capped"]),
    Figure("key rotation: values/s", lambda f: f["rotation"]["values_per_second"], "{:,.0f}"),
    Figure("key rotation: documents/s (summaries, pages)", _phase_rate("re-encrypting documents"),
           "{:,.0f}"),
    Figure("key rotation: batch files/s", _phase_rate("writing batch files again"), "{:,.0f}"),
    Figure("key rotation stopped: documents left, s at the last size's rate",
           lambda f: f["rotation"].get("later_seconds", {}).get("re-encrypting documents", 0.0),
           "{:,.0f}"),
    Figure("key rotation stopped: batch files left, s at a sample's rate",
           lambda f: f["rotation"].get("later_seconds", {}).get("writing batch files again", 0.0),
           "{:,.0f}"),
    Figure("key rotation: s before the first value (counting)", _counting, "{:,.0f}"),
    Figure("key rotation: registrations p99 ms meanwhile (4 connections)",
           lambda f: f["rotation"]["p99_ms"], target=("< 500 ms", _at_most(500))),
    Figure("database KB per registration", _per_registration(lambda f: f["size"]["database"])),
    Figure("database KB per registration without documents", _per_registration(
        lambda f: f["size"]["database"] - f["size"]["documents"]),
           target=("< 4 KB (SQLite)", _at_most(4))),
    Figure("of which message payloads, KB per registration",
           _per_registration(lambda f: f["size"]["payloads"])),
    Figure("documents, KB per registration", _per_registration(lambda f: f["size"]["documents"])),
    # Kept as documents since 2026-12-07 (delivery.references), in their payloads before.
    Figure("of which the authority's summaries, KB per registration",
           _per_registration(lambda f: f["size"].get("summaries", 0.0))),
    Figure("peak RSS web MB (granian, all processes)", lambda f: f["rss_mb"]["web"], "{:,.0f}"),
    Figure("peak RSS worker MB", lambda f: f["rss_mb"]["worker"], "{:,.0f}"),
]


def _verdict(figure: Figure, label: str, by_n: dict[int, float]) -> str:
    words = []
    if len(by_n) > 1 and figure.flat:
        words.append(f"<= 1.5x: {'meets' if _within(by_n) else 'misses'}")
    if figure.target is not None and not (figure.target[0].endswith("(SQLite)")
                                          and label != "SQLite"):
        words.append(f"{figure.target[0]}: {'meets' if figure.target[1](by_n) else 'misses'}")
    return "; ".join(words)


def table(label: str, runs: dict[str, dict[str, Any]]) -> list[str]:
    sizes = sorted(int(n) for n in runs)
    lines = [f"| {label} | " + " | ".join(f"N = {n:,}" for n in sizes)
             + f" | {max(sizes) // 1000:,}k / {min(sizes) // 1000:,}k | target at {max(sizes):,} |",
             "|---|" + "---|" * (len(sizes) + 2)]
    for figure in FIGURES:
        values = {n: figure.value(runs[str(n)]) for n in sizes}
        by_n = {n: value for n, value in values.items() if value is not None}
        low, high = values[min(sizes)], values[max(sizes)]
        ratio = f"{high / low:.2f}x" if low and high is not None else ""
        marked = {n: "*" if figure.star and figure.star(runs[str(n)]) else "" for n in sizes}
        shown = " | ".join("not measured" if values[n] is None
                           else figure.fmt.format(values[n]) + marked[n] for n in sizes)
        verdict = _verdict(figure, label, by_n) if max(sizes) in by_n else ""
        lines.append(f"| {figure.label} | {shown} | {ratio} | {verdict} |")
    return lines


def plot(results: dict[str, Any]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [figure for figure in FIGURES if figure.plot]
    columns = 4
    rows = -(-len(shown) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4 * columns, 3 * rows), squeeze=False)
    for ax, figure in zip(axes.flat, shown, strict=False):
        for label, runs in results["engines"].items():
            points = [(n, figure.value(runs[str(n)])) for n in sorted(int(n) for n in runs)]
            measured = [(n, value) for n, value in points if value is not None]
            ax.plot([n for n, _v in measured], [value for _n, value in measured], marker="o",
                    label=label)
        ax.set_xscale("log")
        ax.set_xlabel("registrations seeded (N)")
        ax.set_title(figure.label, fontsize=9)
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(shown):]:
        ax.set_visible(False)
    fig.tight_layout()
    PLOTS.mkdir(exist_ok=True)
    path = PLOTS / "scale.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def _estimate(results: dict[str, Any]) -> str:
    """A quick run's figures carried to a full one: each database's time so far, the rest of
    the seeding at the last size's rate, and the last size's measurements once more."""
    largest = max(results["sizes"])
    total = 0.0
    for label, runs in results["engines"].items():
        last = runs[str(largest)]
        rate = last["seed"]["households"] / last["seed"]["seconds"]
        total += results["engine_seconds"][label] + (FULL - largest) / rate \
            + last["measure_seconds"]
    return (f"At this run's rates a full run would take about {total / 60:.0f} min (each "
            f"database's time so far, the seeding to 1,000,000 at the rate from {largest:,} on, "
            "the last size's measurements once more): a lower bound, as neither the seeding "
            "nor the measurements stay flat (target: under an hour).")


def write(results: dict[str, Any]) -> None:
    image = plot(results)
    sizes = results["sizes"]
    quick = max(sizes) < FULL
    started = dt.datetime.fromisoformat(results["started"])
    speed = results["speed"]
    lines = [
        "# Scale: the service with up to a million registrations (issue #29)", "",
        ("**Quick mode** (`INTAKE_SCALE_MAX=" + str(results["max"]) + "`): N up to "
         f"{max(sizes):,}, not the full run; the targets are judged at {max(sizes):,} and "
         "say nothing yet about 1,000,000." if quick else
         "The full run: N = 10,000, 100,000 and 1,000,000 on each database."), "",
        f"Written by `make bench-scale` (bench/scale.py). Run {started:%Y-%m-%d %H:%M} UTC in "
        f"{results.get('seconds', 0) / 60:.1f} min on {platform.node()}: {results['cores']} "
        f"cores, {platform.machine()}, Python {platform.python_version()}; per database "
        + ", ".join(f"{label} {seconds / 60:.1f} min" for label, seconds
                    in results["engine_seconds"].items())
        + f". Machine speed: a fixed Python loop took {speed[0]:.2f} s of CPU before the run"
        + (f" and {speed[1]:.2f} s after" if len(speed) > 1 else "") + " (lower is faster)"
        + (". Load average (1 min) before and after: " + ", ".join(
            f"{load:.1f}" for load in results["load"]) if "load" in results else "") + "."
        + (" PostgreSQL {server_version} on the same machine: shared_buffers {shared_buffers}, "
           "max_wal_size {max_wal_size}, synchronous_commit {synchronous_commit}, autovacuum "
           "{autovacuum} (the bench analyzes after each seeding).".format(**results["postgresql"])
           if "postgresql" in results else ""), "",
        "Each database is grown through the sizes: seeded through the store layer "
        f"(`household_rows.prepare` in 2 processes, `write` {results['chunk']:,} households a "
        "transaction): households of 1-6 persons (30/25/20/13/8/4 %), 74 % Ukrainian (Latin "
        "and Cyrillic names), 14 % Syrian and Afghan (Arabic script), 12 % third-country "
        "nationals; routed over the 658 authorities of the generated national directory (a few "
        "take most), all with opening hours and slots; 30 % delivered in acknowledged batches "
        "with their real messages' payloads (naming the household's summary PDF, kept once "
        "as its document) and a stand-in batch file of their size, 3 % erased, "
        f"{results['document_share']:.0%} with one stored page of "
        f"{results['page_bytes'] / 1e3:,.0f} KB (a phone photo as kept).", "",
        "At each N: the service (`intake serve`, wrk on the same machine, 10 s after 2 s of "
        "warm-up) takes registrations from 32 connections (bench/load.lua, as `make bench`); "
        "then, at once, status pages (8 connections), slots listings (8), a volunteer's desk "
        "search by name and date of birth (4) and registrations (8), each with its own p99; "
        "`intake keys rotate` with a new data key over the whole database while 4 connections "
        "post registrations. In the bench's process, the service stopped: "
        f"`blind_index.duplicates` for {200} households (half seeded people, half new); a "
        "batch of 5,000 waiting messages assembled and its file written; the scheduler's "
        "retention sweep over up to 100,000 acknowledged registrations. Registrations posted "
        "under load stay: the database holds more than N when measured (first row).", "",
    ]
    if quick:
        lines += [_estimate(results), ""]
    for label, runs in results["engines"].items():
        lines += [f"## {label}", "", *table(label, runs), ""]
    lines += [f"![each figure against N]({image.relative_to(NOTE.parent)})", "",
              "Raw figures: [scale/results.json](scale/results.json) "
              "(`python bench/scale.py report` writes this note again from them).", ""]
    NOTE.write_text("\n".join(lines))
    print("\n".join(lines))
    os.sync()
