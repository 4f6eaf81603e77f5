"""The record view says what a note's signature is worth (#17)."""

from __future__ import annotations

from datetime import UTC, datetime

from cms_desktop.domain.signed_acts import SignatureStatus
from cms_desktop.services.records import ConsultationView, NoteContent
from cms_desktop.ui.record.consultations_tab import note_html


def _note(status: SignatureStatus | None) -> ConsultationView:
    return ConsultationView(
        "c1",
        datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
        "Dr Test",
        NoteContent(reason="Toux"),
        status is not None,
        signature=status,
    )


def test_each_signature_status_is_named_and_altered_is_red() -> None:
    verified = note_html(_note(SignatureStatus.VERIFIED))
    altered = note_html(_note(SignatureStatus.ALTERED))
    old = note_html(_note(SignatureStatus.UNVERIFIABLE))
    assert "Signature vérifiée" in verified and "modifié" not in verified
    assert "Contenu modifié après signature" in altered and "#c0392b" in altered
    assert "non vérifiable" in old and "rien d&#x27;anormal" in old
    assert "#c0392b" not in old  # an old note raises no alarm
    assert "ignature" not in note_html(_note(None))  # a draft is not signed yet
