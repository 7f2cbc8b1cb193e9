"""E-mail addresses as the abuse limits count them: one mailbox, however it is written."""

from __future__ import annotations


def mailbox_key(email: str) -> str:
    """The mailbox an address reaches, for counting: case and a "+tag" in the local part
    make no other mailbox at the providers people use (`Name+1@Example.com` and
    `name@example.com` are one inbox), so a limit per address counts them as one.
    Never send to it: the address as typed is what the recipient asked for."""
    local, at, domain = email.strip().lower().rpartition("@")
    if not at:
        return domain
    return f"{local.split('+', 1)[0] or local}@{domain}"
