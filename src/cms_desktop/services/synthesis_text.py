"""French text of the synthesis entries: one wording for the screens, the record copy
given to a patient and the referral letters."""

from __future__ import annotations

from datetime import date
from typing import Any

from cms_desktop.domain.prevention import SCREENING_LABELS
from cms_desktop.domain.synthesis import (
    ALLERGY_KIND_LABELS,
    HISTORY_KIND_LABELS,
    RISK_KIND_LABELS,
    SEVERITY_LABELS,
    STATUS_LABELS,
    TOBACCO_STATUS_LABELS,
)
from cms_desktop.services.synthesis import Section, Synthesis

SECTION_TITLES = {
    Section.HISTORY: "Antécédents",
    Section.ALLERGIES: "Allergies et intolérances",
    Section.TREATMENTS: "Traitements au long cours",
    Section.VACCINATIONS: "Vaccinations",
    Section.RISK_FACTORS: "Facteurs de risque",
    Section.SCREENINGS: "Dépistages réalisés",
    Section.PROBLEMS: "Liste des problèmes",
}


def fmt_date(day: date | None) -> str:
    return "" if day is None else f"{day:%d/%m/%Y}"


def fmt_number(value: float | None) -> str:
    return "" if value is None else f"{value:g}".replace(".", ",")


def describe(section: Section, entry: Any) -> tuple[str, str]:
    """(main text, details) of one entry, in French."""
    if section is Section.HISTORY:
        when = fmt_date(entry.on_date) or (str(entry.year) if entry.year else "")
        code = f" [{entry.code}]" if entry.code else ""
        return f"{HISTORY_KIND_LABELS[entry.kind]} — {entry.label}{code}", ", ".join(
            p for p in (when, entry.note) if p
        )
    if section is Section.ALLERGIES:
        return entry.substance, ", ".join(
            p
            for p in (
                ALLERGY_KIND_LABELS[entry.kind],
                entry.reaction,
                SEVERITY_LABELS[entry.severity],
                STATUS_LABELS[entry.status],
            )
            if p
        )
    if section is Section.TREATMENTS:
        since = f"depuis le {fmt_date(entry.started_on)}" if entry.started_on else ""
        state = "" if entry.active else "arrêté"
        return f"{entry.medicine} {entry.dosage}".strip(), ", ".join(
            p for p in (since, entry.prescriber, state) if p
        )
    if section is Section.VACCINATIONS:
        return f"{entry.vaccine} — {fmt_date(entry.given_on)}", ", ".join(
            p for p in (entry.dose, f"lot {entry.lot}" if entry.lot else "", entry.given_by) if p
        )
    if section is Section.RISK_FACTORS:
        status = TOBACCO_STATUS_LABELS.get(entry.status, "") if entry.status else ""
        amounts = [
            f"{fmt_number(entry.pack_years)} paquets-années"
            if entry.pack_years is not None
            else "",
            f"{fmt_number(entry.units_per_week)} unités/semaine"
            if entry.units_per_week is not None
            else "",
        ]
        return RISK_KIND_LABELS[entry.kind], ", ".join(
            p for p in (status, *amounts, entry.note) if p
        )
    if section is Section.SCREENINGS:
        return f"{SCREENING_LABELS[entry.programme]} — {fmt_date(entry.done_on)}", entry.result
    code = f" [{entry.code}]" if entry.code else ""
    since = f"depuis le {fmt_date(entry.since)}" if entry.since else ""
    return f"{entry.label}{code}", ", ".join(p for p in (STATUS_LABELS[entry.status], since) if p)


def synthesis_lines(synthesis: Synthesis) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(section title, one line per entry) for every non-empty section, in screen order."""
    out = []
    for section in Section:
        items = getattr(synthesis, section.value)
        if not items:
            continue
        lines = []
        for item in items:
            main, details = describe(section, item.entry)
            lines.append(f"{main} ({details})" if details else main)
        out.append((SECTION_TITLES[section], tuple(lines)))
    return tuple(out)
