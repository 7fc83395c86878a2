"""French phone numbers to E.164."""

from __future__ import annotations

import phonenumbers

__all__ = ["normalise_phone"]


def normalise_phone(text: str) -> str | None:
    value = text.strip()
    if value.lower().startswith("tel:"):
        value = value[4:]
    if not value or len(value) > 40:
        return None
    try:
        number = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
