"""Names of groups and service accounts: one clean form to show, one key to compare.

People tell groups apart by their names, so two names that look the same must be the same name:
"Acme  Developers" (two spaces), "Acme Developers\u200b" (a zero-width space), a no-break space or
full-width letters all become "Acme Developers" (Unicode NFKC, zero-width characters removed, runs of
white space collapsed). Uniqueness compares the case-folded form (`name_key`), which the database keeps in
a column of its own so that its unique constraint compares exactly what this module compares.

Characters that change how the text *around* them reads (bidirectional overrides and isolates) and
other control or invisible characters are refused rather than silently dropped, and so is a word that mixes
scripts with letters that look alike ("Acme" spelt with a Cyrillic capital A): no real name needs one, and it is the way
to make a second "Acme Developers" that NFKC does not fold into the first. Words in one script each
("Acme Разработчики") stay allowed; the Unicode confusables data comes from `confusable-homoglyphs`.
"""

import unicodedata

from confusable_homoglyphs import confusables

NAME_MAX_LENGTH = 150  # Group.name and ServiceAccount.name

# Removed: they draw nothing and only make a name differ from one that looks the same.
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"))
# Refused: they reorder the text around them ("Trojan Source").
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
# Refused: control, format, surrogate and private-use characters.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})


def _normal(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").translate(_ZERO_WIDTH)
    return " ".join(text.split())


def name_clean(text: str, *, max_length: int = NAME_MAX_LENGTH) -> str:
    """The name as it is stored and shown, or ValueError with a message for the person who typed it."""
    text = unicodedata.normalize("NFKC", text or "").translate(_ZERO_WIDTH)
    if any(c in _BIDI for c in text):
        raise ValueError(
            "The name contains invisible characters that change the direction of the text; type it again."
        )
    if any(unicodedata.category(c) in _REFUSED_CATEGORIES and not c.isspace() for c in text):
        raise ValueError("The name contains control or invisible characters; use visible characters only.")
    text = " ".join(text.split())
    if not text:
        raise ValueError("Enter a name.")
    if any(confusables.is_dangerous(word) for word in text.split()):
        raise ValueError(
            "The name mixes letters of different alphabets that look alike (such as a Cyrillic letter among "
            "Latin ones); type it in one alphabet."
        )
    if len(text) > max_length:
        raise ValueError(f"Use at most {max_length} characters for the name (it has {len(text)}).")
    return text


def name_key(text: str) -> str:
    """What uniqueness compares: the clean form, case-folded ("Straße" and "STRASSE" are the same name)."""
    return _normal(text).casefold()
