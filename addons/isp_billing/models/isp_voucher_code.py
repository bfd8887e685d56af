"""Voucher codes: ``XXXX-XXXX-XXXX``, eleven random characters and a check character.

The alphabet has no look-alikes (no 0/O, 1/I/L): 31 characters, a prime number. The check
character makes ``sum(position * value) % 31 == 0`` over the twelve characters (positions 1 to
12), so every single mistyped character and every swap of two characters is detected without
looking in the database (a weighted sum modulo a prime: positions differ by less than 31).
Eleven random characters are 31**11 ≈ 2.5e16 codes (54 bits).
"""

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
BASE = len(ALPHABET)  # 31, prime
VALUES = {char: index for index, char in enumerate(ALPHABET)}
RANDOM_CHARS = 11
CODE_LENGTH = RANDOM_CHARS + 1
SPACE = BASE**RANDOM_CHARS
# what people type between groups: spaces, dashes of every kind, dots, underscores
SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212._/]+")
CODE_PATTERN = re.compile(r"^[%s]{4}-[%s]{4}-[%s]{4}$" % ((ALPHABET,) * 3))  # noqa: UP031
# Check weights: the inverse of 12 (the check character's position) modulo 31
_INVERSE_12 = pow(CODE_LENGTH, -1, BASE)


def check_char(body):
    """The check character of the eleven characters ``body``."""
    total = sum(position * VALUES[char] for position, char in enumerate(body, start=1))
    return ALPHABET[(-total * _INVERSE_12) % BASE]


def is_valid(compact):
    """True when ``compact`` (twelve alphabet characters, no dashes) has a valid check."""
    if len(compact) != CODE_LENGTH or any(char not in VALUES for char in compact):
        return False
    total = sum(position * VALUES[char] for position, char in enumerate(compact, start=1))
    return total % BASE == 0


def format_code(compact):
    return f"{compact[0:4]}-{compact[4:8]}-{compact[8:12]}"


def normalize(text):
    """Typed input → ``XXXX-XXXX-XXXX``, or None when it is not a valid code. Case, spaces and
    dashes (present, missing or misplaced) do not matter."""
    if not isinstance(text, str) or len(text) > 64:
        return None
    compact = SEPARATORS.sub("", text).upper()
    if not is_valid(compact):
        return None
    return format_code(compact)


# Random bytes → alphabet characters without bias: bytes below 248 (8 * 31) map to
# ALPHABET[byte % 31], the others are dropped (bytes.translate does both in C).
_UNBIASED = BASE * (256 // BASE)
_TRANSLATE = bytes(ord(ALPHABET[b % BASE]) if b < _UNBIASED else 0 for b in range(256))
_DROP = bytes(range(_UNBIASED, 256))


def random_chars(count, randbytes=secrets.token_bytes):
    """``count`` cryptographically random alphabet characters."""
    chars = b""
    while len(chars) < count:
        need = count - len(chars)
        chars += randbytes(need + need // 16 + 16).translate(_TRANSLATE, _DROP)
    return chars[:count].decode()


def random_codes(count):
    """``count`` new random codes (cryptographically random; duplicates are possible in
    theory and left to the database's unique constraint)."""
    chars = random_chars(count * RANDOM_CHARS)
    codes = []
    for start in range(0, len(chars), RANDOM_CHARS):
        body = chars[start : start + RANDOM_CHARS]
        code = body + check_char(body)
        codes.append(f"{code[0:4]}-{code[4:8]}-{code[8:12]}")
    return codes
