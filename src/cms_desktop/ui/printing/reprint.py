"""Preview and reprint (or save again) a prescription exactly as it was printed: the stored
PDF bytes, never a new rendering; each reprint is audited as a « réimpression »."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QWidget

from cms_desktop.domain.permissions import Permission
from cms_desktop.services import prescriptions as rx
from cms_desktop.ui.areas import AreaContext
from cms_desktop.ui.printing.preview import PreviewDialog, preview_pdf


def open_stored_prescription(
    ctx: AreaContext,
    parent: QWidget,
    prescription_id: str,
    on_error: Callable[[str], None],
    on_open: Callable[[PreviewDialog], None] | None = None,
) -> None:
    """Load the stored PDF off the UI thread, then show it; printing or saving it again
    is audited. Without the right to print, the preview is read-only."""
    ws, actor = ctx.workspace, ctx.actor

    def show(stored: rx.StoredPrescription) -> None:
        def printed(how: str) -> None:
            ctx.runner.run_write(
                lambda: rx.record_reprint(ws, actor, stored.id, how), None, on_error
            )

        title = f"{stored.title} — " + parent.tr("réimpression")
        dialog = preview_pdf(parent, title, stored.pdf, printed)
        if not actor.can(Permission.PRINT_CLINICAL):
            dialog.print_button.setEnabled(False)
            dialog.save_button.setEnabled(False)
        if on_open is not None:
            on_open(dialog)

    ctx.runner.run_read(lambda: rx.stored_prescription(ws, actor, prescription_id), show, on_error)
