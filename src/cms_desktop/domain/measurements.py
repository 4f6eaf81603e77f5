"""Vital signs and biometrics: plausibility checks (typing errors refused) and the BMI.

The ranges are plausibility bounds, not normal values: they reject typing errors (a weight of
750 kg, a temperature of 375 °C) and accept every value a real patient may show, children
included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

__all__ = ["PLAUSIBLE_RANGES", "MeasurementError", "VitalSigns", "bmi", "parse_decimal"]


class MeasurementError(ValueError):
    """Implausible measurements; ``str()`` lists every problem in French, one a line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class _Range:
    label: str
    unit: str
    low: float
    high: float


PLAUSIBLE_RANGES: dict[str, _Range] = {
    "weight_kg": _Range("Le poids", "kg", 0.3, 400),
    "height_cm": _Range("La taille", "cm", 20, 250),
    "systolic_mmhg": _Range("La pression systolique", "mmHg", 50, 300),
    "diastolic_mmhg": _Range("La pression diastolique", "mmHg", 20, 200),
    "heart_rate_bpm": _Range("La fréquence cardiaque", "/min", 20, 250),
    "temperature_c": _Range("La température", "°C", 30, 45),
    "spo2_percent": _Range("La saturation en oxygène (SpO2)", "%", 50, 100),
    "glucose_g_per_l": _Range("La glycémie", "g/L", 0.1, 10),
    "hba1c_percent": _Range("L'hémoglobine glyquée (HbA1c)", "%", 3, 20),
}


def _number(value: float) -> str:
    return f"{value:g}".replace(".", ",")


@dataclass(frozen=True)
class VitalSigns:
    """One set of measurements taken together; every value is optional.

    Construction refuses implausible values with a MeasurementError.
    """

    weight_kg: float | None = None
    height_cm: float | None = None
    systolic_mmhg: int | None = None
    diastolic_mmhg: int | None = None
    heart_rate_bpm: int | None = None
    temperature_c: float | None = None
    spo2_percent: int | None = None
    glucose_g_per_l: float | None = None
    hba1c_percent: float | None = None

    def __post_init__(self) -> None:
        problems: list[str] = []
        for f in fields(self):
            value = getattr(self, f.name)
            bounds = PLAUSIBLE_RANGES[f.name]
            if value is not None and not bounds.low <= value <= bounds.high:
                problems.append(
                    f"{bounds.label} ({_number(value)} {bounds.unit}) n'est pas plausible : "
                    f"attendu entre {_number(bounds.low)} et {_number(bounds.high)} {bounds.unit}."
                )
        systolic, diastolic = self.systolic_mmhg, self.diastolic_mmhg
        if (systolic is None) != (diastolic is None):
            problems.append(
                "La pression artérielle se saisit avec la systolique et la diastolique."
            )
        elif systolic is not None and diastolic is not None and systolic <= diastolic:
            problems.append(
                "La pression systolique doit être supérieure à la diastolique "
                f"({systolic}/{diastolic} mmHg saisis)."
            )
        if problems:
            raise MeasurementError(problems)

    @property
    def bmi(self) -> float | None:
        """Body-mass index in kg/m², or None without both weight and height."""
        return bmi(self.weight_kg, self.height_cm)

    @property
    def is_empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))


def bmi(weight_kg: float | None, height_cm: float | None) -> float | None:
    """Weight / height² in kg/m², rounded to one decimal; None when a value is missing."""
    if weight_kg is None or height_cm is None or height_cm <= 0:
        return None
    height_m = height_cm / 100
    return round(weight_kg / (height_m * height_m), 1)


_DECIMAL = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def parse_decimal(text: str, label: str = "La valeur") -> float:
    """Read a number typed the French way ("37,5") or with a dot; raise MeasurementError."""
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "")
    if _DECIMAL.fullmatch(cleaned) is None:
        raise MeasurementError([f"{label} « {text.strip()} » n'est pas un nombre."])
    return float(cleaned.replace(",", "."))
