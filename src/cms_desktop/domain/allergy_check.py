"""Allergy and intolerance check at prescription: a recorded allergy against the substances
of a prescription line, directly and through a curated table of cross-reactive classes.

Pure rules. The services add what the BDPM (the ANSM's public drug database) says a medicine
contains and what a brand name or a salt stands for; this module decides what matches.

An allergy whose text names no substance of the BDPM and no class of the table is *not
coded*: it cannot be checked, and the prescriber is told so (« allergie non codée : vérifiez
vous-même ») rather than shown a silent pass.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "CLASSES",
    "UNCODED_NOTICE",
    "AllergyConfirmation",
    "AllergyMatch",
    "AllergyProfile",
    "DrugClass",
    "MatchKind",
    "allergy_profile",
    "classes_of",
    "clean_reason",
    "is_meaningful",
    "line_matches",
    "missing_confirmation",
    "substance_key",
]

UNCODED_NOTICE = "allergie non codée : vérifiez vous-même"
MAX_REASON = 500


def substance_key(text: str) -> str:
    """Accent-free, lower-case words: « Céfpodoxime PROXÉTIL » → « cefpodoxime proxetil »."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = plain.lower().replace("œ", "oe").replace("æ", "ae")
    return " ".join(re.findall(r"[a-z0-9]+", plain))


# Words that name no substance on their own: a key made only of them never matches, so an
# allergy typed « acide » does not flag every « acide … ».
_GENERIC_WORDS = frozenset(
    [
        "a",
        "au",
        "aux",
        "d",
        "de",
        "des",
        "du",
        "en",
        "et",
        "l",
        "la",
        "le",
        "les",
        "par",
        "pour",
        "sur",
        "avec",
        "sans",
        "acide",
        "sodique",
        "potassique",
        "calcique",
        "magnesique",
        "sodium",
        "potassium",
        "calcium",
        "magnesium",
        "chlorhydrate",
        "sulfate",
        "phosphate",
        "acetate",
        "citrate",
        "maleate",
        "tartrate",
        "fumarate",
        "mesilate",
        "besilate",
        "succinate",
        "trihydrate",
        "trihydratee",
        "dihydrate",
        "monohydrate",
        "hemihydrate",
        "anhydre",
        "base",
        "sel",
        "sels",
        "medicament",
        "medicaments",
        "produit",
        "produits",
        "allergie",
        "allergique",
        "intolerance",
    ]
)


def _words(key: str) -> tuple[str, ...]:
    return tuple(key.split())


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    """``needle`` appears in ``haystack`` as whole consecutive words."""
    n = len(needle)
    return n > 0 and any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def _meaningful(words: tuple[str, ...]) -> bool:
    return any(w not in _GENERIC_WORDS and len(w) >= 3 for w in words)


def is_meaningful(key: str) -> bool:
    """True when ``key`` has a word that can name a substance (not « acide », « de »…)."""
    return _meaningful(_words(key))


def _mentions(text_words: tuple[str, ...], term: str) -> bool:
    """``term`` (a key) named in ``text_words``, as whole words, or as a word beginning
    (« pénicillines » names « pénicilline », « céphalosporines » names « céphalosporine »)."""
    term_words = _words(term)
    if _contains(text_words, term_words):
        return True
    if len(term_words) == 1 and len(term_words[0]) >= 5:
        return any(
            w.startswith(term_words[0]) and len(w) - len(term_words[0]) <= 2 for w in text_words
        )
    return False


# --- the curated table ---


@dataclass(frozen=True)
class DrugClass:
    """A class of substances that cross-react (or share a contra-indication).

    ``members`` are DCI keys; ``suffixes``/``prefixes`` are the WHO INN stems of the class
    (a new substance of the class is caught without editing the table); ``aliases`` are the
    words a person types for the class itself (« pénicilline », « AINS »); ``related`` are the
    classes with documented cross-reactions; ``source`` is where the class comes from.
    """

    code: str
    label: str
    members: frozenset[str]
    source: str
    suffixes: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    excluded: frozenset[str] = frozenset()

    def has(self, key: str) -> bool:
        """True when the substance ``key`` belongs to the class."""
        words = _words(key)
        if any(_contains(words, _words(m)) for m in self.members):
            return True
        for word in words:
            if word in self.excluded:
                continue
            if any(word.endswith(s) and len(word) > len(s) + 2 for s in self.suffixes):
                return True
            if any(word.startswith(p) and len(word) > len(p) + 3 for p in self.prefixes):
                return True
        return False


def _keys(text: str) -> frozenset[str]:
    return frozenset(substance_key(part) for part in text.split(",") if part.strip())


_BETA_LACTAM_SOURCE = (
    "ATC J01C / J01D (WHO Collaborating Centre for Drug Statistics Methodology); stems "
    "-cilline, cef-, -pénem (WHO, The use of stems in the selection of INN); cross-reactions "
    "between beta-lactams: RCP of amoxicilline (ANSM, base de données publique des "
    "médicaments, section 4.3 « antécédent de réaction d'hypersensibilité immédiate sévère à "
    "une autre bêtalactamine (céphalosporine, carbapénème, monobactame) »); Vidal, classes "
    "« Pénicillines », « Céphalosporines », « Carbapénèmes »"
)

CLASSES: tuple[DrugClass, ...] = (
    DrugClass(
        "penicillins",
        "pénicillines",
        _keys(
            "amoxicilline, ampicilline, benzylpénicilline, phénoxyméthylpénicilline, "
            "oxacilline, cloxacilline, pipéracilline, ticarcilline, témocilline, "
            "pivmécillinam, mécillinam, bacampicilline, extencilline, benzathine"
        ),
        _BETA_LACTAM_SOURCE,
        suffixes=("cilline",),
        aliases=("penicilline", "betalactamine", "beta lactamine"),
        related=("cephalosporins", "carbapenems", "monobactams"),
    ),
    DrugClass(
        "cephalosporins",
        "céphalosporines",
        _keys(
            "céfalexine, céfadroxil, céfaclor, céfuroxime, cefpodoxime, céfixime, "
            "ceftriaxone, céfotaxime, ceftazidime, céfépime, céfazoline, céfoxitine, "
            "ceftaroline, céfidérocol, ceftolozane, ceftobiprole, céfotiam"
        ),
        _BETA_LACTAM_SOURCE,
        prefixes=("cef", "ceph"),
        aliases=("cephalosporine", "betalactamine", "beta lactamine"),
        related=("penicillins", "carbapenems", "monobactams"),
    ),
    DrugClass(
        "carbapenems",
        "carbapénèmes",
        _keys("imipénème, méropénème, ertapénème, doripénème"),
        _BETA_LACTAM_SOURCE,
        suffixes=("penem", "peneme"),
        aliases=("carbapeneme", "betalactamine", "beta lactamine"),
        related=("penicillins", "cephalosporins"),
    ),
    DrugClass(
        "monobactams",
        "monobactames",
        _keys("aztréonam"),
        _BETA_LACTAM_SOURCE + "; aztréonam: RCP (ANSM), cross-reaction with ceftazidime",
        aliases=("monobactame",),
        related=("penicillins", "cephalosporins"),
    ),
    DrugClass(
        "sulfonamides",
        "sulfamides",
        _keys(
            "sulfaméthoxazole, sulfadiazine, sulfafurazole, sulfasalazine, sulfacétamide, "
            "furosémide, bumétanide, hydrochlorothiazide, indapamide, chlortalidone, "
            "gliclazide, glibenclamide, glimépiride, glipizide, célécoxib, acétazolamide"
        ),
        "ATC J01E (sulfamides antibactériens); Vidal, classe « Sulfamides »; RCP (ANSM, "
        "section 4.3) of furosémide, hydrochlorothiazide, indapamide, gliclazide, "
        "glibenclamide, célécoxib: contra-indicated in « hypersensibilité aux sulfamides »",
        prefixes=("sulfa",),
        aliases=("sulfamide", "sulfonamide", "cotrimoxazole", "bactrim"),
    ),
    DrugClass(
        "nsaids",
        "anti-inflammatoires non stéroïdiens et aspirine",
        _keys(
            "acide acétylsalicylique, acétylsalicylate de lysine, carbasalate calcique, "
            "ibuprofène, kétoprofène, dexkétoprofène, flurbiprofène, naproxène, "
            "alminoprofène, diclofénac, acéclofénac, indométacine, sulindac, étodolac, "
            "nabumétone, piroxicam, méloxicam, ténoxicam, célécoxib, étoricoxib, parécoxib, "
            "acide méfénamique, acide niflumique, morniflumate, kétorolac, "
            "acide tiaprofénique, diflunisal"
        ),
        "ATC M01A and N02BA (WHO); Vidal, classe « AINS »; RCP of ibuprofène and of "
        "acide acétylsalicylique (ANSM, section 4.3: « antécédents d'asthme ou de réaction "
        "allergique déclenchés par la prise de ce médicament ou de substances d'activité "
        "proche telles que autres AINS, acide acétylsalicylique »)",
        suffixes=("profene", "fenac", "oxicam", "coxib"),
        aliases=("aspirine", "ains", "anti inflammatoire", "anti inflammatoires", "salicyle"),
    ),
    DrugClass(
        "iodinated",
        "produits iodés",
        _keys(
            "iode, povidone iodée, iohexol, iopamidol, ioméprol, iodixanol, ioversol, "
            "iopromide, iobitridol, ioxaglate, amidotrizoate, lipiodol, "
            "esters éthyliques d'acides gras iodés, amiodarone"
        ),
        "ATC V08A (produits de contraste iodés) and D08AG (dérivés iodés, povidone iodée); "
        "RCP of amiodarone (ANSM, section 4.3: « hypersensibilité à l'iode »); SFAR/SFR: "
        "no proven cross-reaction between these products, kept as a warning to confirm",
        prefixes=("io",),
        aliases=("iode", "iodee", "iodes", "contraste iode", "povidone", "betadine"),
        excluded=frozenset({"ion", "ions", "iode"}),
    ),
    DrugClass(
        "opioids",
        "opioïdes : codéine, morphine et apparentés",
        _keys(
            "codéine, dihydrocodéine, éthylmorphine, pholcodine, morphine, hydromorphone, "
            "oxycodone, tramadol, tapentadol, fentanyl, sufentanil, rémifentanil, "
            "alfentanil, péthidine, buprénorphine, nalbuphine, méthadone, dextropropoxyphène"
        ),
        "ATC N02A (opioïdes) and R05DA (alcaloïdes de l'opium, antitussifs); Vidal, classe "
        "« Analgésiques opioïdes »; RCP of codéine (ANSM): codéine is metabolised into "
        "morphine",
        aliases=("opiace", "opiaces", "opioide", "opioides", "morphinique", "morphiniques"),
    ),
)
_BY_CODE = {c.code: c for c in CLASSES}


def classes_of(key: str) -> frozenset[str]:
    """Codes of the classes the substance ``key`` belongs to."""
    return frozenset(c.code for c in CLASSES if c.has(key))


def _named_classes(words: tuple[str, ...]) -> frozenset[str]:
    """Classes named by their alias in an allergy's text (« Pénicilline », « AINS »)."""
    return frozenset(c.code for c in CLASSES if any(_mentions(words, a) for a in c.aliases))


# --- the patient's allergies ---


@dataclass(frozen=True)
class AllergyProfile:
    """One active allergy or intolerance, resolved into substances and classes."""

    label: str  # as recorded: « Amoxicilline »
    kind_label: str  # « allergie » / « intolérance »
    substances: frozenset[str]  # keys
    classes: frozenset[str]  # codes

    @property
    def coded(self) -> bool:
        return bool(self.substances or self.classes)

    @property
    def uncoded_notice(self) -> str:
        return f"{self.label} : {UNCODED_NOTICE}"


def allergy_profile(
    label: str, kind_label: str, known_substances: Iterable[str] = ()
) -> AllergyProfile:
    """Resolve the recorded text: the substances it names (``known_substances`` are keys the
    caller found for it in the BDPM: the substance, its salts, a brand's components), the
    members of the table it names, and the classes of all of them."""
    key = substance_key(label)
    words = _words(key)
    substances = {s for s in known_substances if _meaningful(_words(s))}
    for c in CLASSES:
        substances.update(m for m in c.members if _mentions(words, m) and _meaningful(_words(m)))
    classes = set(_named_classes(words))
    for s in substances:
        classes |= classes_of(s)
    if not substances and _meaningful(words):
        # A DCI of a class caught by its stem only (« témocilline » typed as an allergy).
        stemmed = classes_of(key)
        if stemmed:
            substances.add(key)
            classes |= stemmed
    return AllergyProfile(label, kind_label, frozenset(substances), frozenset(classes))


# --- matching a line ---


class MatchKind(StrEnum):
    SUBSTANCE = "substance"  # the line contains the substance itself
    CLASS = "class"  # same class
    CROSS = "cross"  # a class with documented cross-reactions


@dataclass(frozen=True)
class AllergyMatch:
    allergy: str  # the recorded label
    kind_label: str
    substance: str  # the line's substance that matched, as written (upper case)
    kind: MatchKind
    class_label: str = ""
    source: str = ""

    @property
    def message(self) -> str:
        head = f"{self.kind_label.capitalize()} « {self.allergy} »"
        name = self.substance
        if self.kind is MatchKind.SUBSTANCE:
            return f"{head} : la ligne contient {name}."
        if self.kind is MatchKind.CLASS:
            return f"{head} : {name} appartient à la même classe ({self.class_label})."
        return f"{head} : réaction croisée possible avec {name} ({self.class_label})."


def _direct(allergen: str, substance: str) -> bool:
    a, s = _words(allergen), _words(substance)
    if not (_meaningful(a) and _meaningful(s)):
        return False
    return _contains(s, a) or _contains(a, s)


def line_matches(
    profiles: Sequence[AllergyProfile], line_substances: Iterable[str]
) -> tuple[AllergyMatch, ...]:
    """At most one match per allergy (the closest: substance, then class, then a related
    class), for the substances of one line (names as written: « AMOXICILLINE »)."""
    names = {substance_key(name): name.strip().upper() for name in line_substances}
    substances = sorted(k for k in names if k)
    found: list[AllergyMatch] = []
    for profile in profiles:
        if not profile.coded:
            continue
        best: AllergyMatch | None = None
        for s in substances:
            if any(_direct(a, s) for a in profile.substances):
                best = AllergyMatch(
                    profile.label, profile.kind_label, names[s], MatchKind.SUBSTANCE
                )
                break
            own = classes_of(s)
            same = own & profile.classes
            if same and (best is None or best.kind is MatchKind.CROSS):
                c = _BY_CODE[min(same)]
                best = AllergyMatch(
                    profile.label, profile.kind_label, names[s], MatchKind.CLASS, c.label, c.source
                )
                continue
            related = {r for code in profile.classes for r in _BY_CODE[code].related} & own
            if related and best is None:
                c = _BY_CODE[min(related)]
                best = AllergyMatch(
                    profile.label, profile.kind_label, names[s], MatchKind.CROSS, c.label, c.source
                )
        if best is not None:
            found.append(best)
    return tuple(found)


# --- the prescriber's confirmation ---


@dataclass(frozen=True)
class AllergyConfirmation:
    """« Prescrit malgré l'allergie » : why, by whom, when, and which allergies it covers."""

    reason: str
    allergies: tuple[str, ...]  # recorded labels the prescriber saw
    by: str = ""  # login of the prescriber (set by the service)
    by_name: str = ""
    at: str = ""  # ISO 8601 UTC moment (set by the service)


def clean_reason(reason: str) -> str:
    """The reason as stored; ValueError with a French message when it cannot be."""
    text = " ".join(reason.split())
    if len(text) < 3:
        raise ValueError("Indiquez le motif pour lequel vous prescrivez malgré l'allergie.")
    if len(text) > MAX_REASON:
        raise ValueError(f"Motif trop long ({MAX_REASON} caractères au plus).")
    return text


def missing_confirmation(
    matches: Sequence[AllergyMatch], confirmation: AllergyConfirmation | None
) -> tuple[AllergyMatch, ...]:
    """The matches the confirmation does not cover (all of them when there is none)."""
    if confirmation is None or not confirmation.reason.strip() or not confirmation.at:
        return tuple(matches)
    covered = set(confirmation.allergies)
    return tuple(m for m in matches if m.allergy not in covered)
