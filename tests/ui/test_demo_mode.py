"""`--demo` on a data directory holding a real centre: refused, said in a window and on the
console, before any login window."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QMessageBox

from cms_desktop import app as appmod


def test_demo_mode_refuses_a_real_centre(centre, qapp, monkeypatch, capsys) -> None:
    shown: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "critical", staticmethod(lambda _parent, _title, text: shown.append(text))
    )
    assert isinstance(qapp, QApplication)
    assert appmod._demo_centre_checked(qapp, centre) is False
    assert len(shown) == 1 and "n'a pas été créé en démonstration" in shown[0]
    assert capsys.readouterr().err == f"erreur : {shown[0]}\n"
