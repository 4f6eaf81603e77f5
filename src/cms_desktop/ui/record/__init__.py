"""The clinical side of the patient file (synthesis, consultations, curves, documents, timeline).

``build_clinical_page`` is the factory the patients area calls to show one patient's file.
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from cms_desktop.ui.areas import AreaContext


def build_clinical_page(ctx: AreaContext, patient_id: str) -> QWidget:
    from cms_desktop.ui.record.page import ClinicalPage  # loaded when a file is first opened

    return ClinicalPage(ctx, patient_id)
