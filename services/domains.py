"""Custom domains of a tenant: add (a validated host name), prove ownership with a DNS TXT record,
remove. Only verified domains reach the tenant (tenancy.resolver.load_tenant).

Ownership proof: the tenant creates a TXT record `_tenantry-challenge.<domain>` whose value is the
domain's verification token; `verify_domain` looks it up with dnspython, through the resolver in
TENANTRY_DNS_RESOLVER or the system's.
"""
from __future__ import annotations

import ipaddress
import re
import secrets
import uuid
from dataclasses import dataclass

import dns.exception
import dns.resolver
import idna
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from extensions import db
from models.control import CustomDomain, Tenant, utcnow
from services import audit
from services.errors import NotFound, ValidationFailed

CHALLENGE_LABEL = "_tenantry-challenge"
MAX_PER_TENANT = 20
# The challenge name must itself be a valid DNS name (at most 253 characters).
MAX_LENGTH = 253 - len(CHALLENGE_LABEL) - 1
# Special-use names that can never be a public address (RFC 6761, RFC 6762).
_SPECIAL_TLDS = frozenset({"localhost", "local", "invalid", "arpa", "internal"})
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def challenge_name(domain: str) -> str:
    return f"{CHALLENGE_LABEL}.{domain}"


def unicode_name(domain: str) -> str:
    """How people write `domain` (bücher.example for xn--bcher-kva.example)."""
    try:
        return idna.decode(domain)
    except idna.IDNAError:
        return domain


@dataclass(frozen=True)
class DomainEntry:
    """A domain as the console shows it."""

    row: CustomDomain

    @property
    def name(self) -> str:
        return self.row.domain

    @property
    def display(self) -> str:
        return unicode_name(self.row.domain)

    @property
    def record_name(self) -> str:
        return challenge_name(self.row.domain)


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(message, "domain")


def normalise_domain(raw: str, base_domain: str) -> str:
    """`raw` as a lowercase ASCII (IDNA) host name, or ValidationFailed saying what is wrong."""
    text = (raw or "").strip()
    if not text:
        raise _refuse("Enter a domain name, such as shop.example.com.")
    if len(text) > 300:
        raise _refuse(f"That is too long for a domain name (at most {MAX_LENGTH} characters).")
    if any(c.isspace() or not c.isprintable() for c in text):
        raise _refuse("A domain name cannot contain spaces or invisible characters.")
    lowered = text.lower()
    if "://" in lowered or lowered.startswith(("http:", "https:")):
        raise _refuse("Enter only the domain name, without http:// or https://.")
    if any(c in text for c in "/?#\\"):
        raise _refuse("Enter only the domain name, without a path or anything after it.")
    if "@" in text:
        raise _refuse("Enter only the domain name, without a user name or @.")
    bare = lowered.strip("[]")
    if _is_ip(bare):
        raise _refuse("An IP address cannot be a custom domain; enter a domain name such as shop.example.com.")
    if ":" in lowered:
        raise _refuse("Enter the domain name without a port (such as :8080).")
    host = lowered[:-1] if lowered.endswith(".") else lowered  # the root's dot: example.com. = example.com
    if not host or any(not label for label in host.split(".")):
        raise _refuse("A domain name cannot have empty parts (two dots in a row, or a dot at the start).")
    try:
        ascii_host = idna.encode(host, uts46=True).decode("ascii") if not host.isascii() else host
        if ascii_host.isascii() and "xn--" in ascii_host:
            idna.decode(ascii_host)  # a punycode label must decode to a valid name
    except (idna.IDNAError, UnicodeError) as exc:
        raise _refuse(f"That is not a valid international domain name ({exc}).") from None
    labels = ascii_host.split(".")
    if not all(_LABEL.match(label) for label in labels):
        raise _refuse("Each part of a domain name may use only letters, digits and hyphens (at most 63 "
                      "characters), and cannot start or end with a hyphen.")
    if len(ascii_host) > MAX_LENGTH:
        raise _refuse(f"That is too long for a domain name (at most {MAX_LENGTH} characters).")
    if len(labels) < 2:
        raise _refuse("Enter a full domain name, such as shop.example.com.")
    if labels[-1].isdigit():
        raise _refuse("The last part of a domain name cannot be a number.")
    if labels[-1] in _SPECIAL_TLDS:
        raise _refuse(f"Names ending in .{labels[-1]} are not public addresses; enter a real domain.")
    if ascii_host == base_domain or ascii_host.endswith("." + base_domain):
        raise _refuse(f"Addresses under {base_domain} already belong to this service (every tenant has "
                      f"<slug>.{base_domain}); enter a domain the tenant owns.")
    return ascii_host


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def entries_of(tenant_id: uuid.UUID) -> list[DomainEntry]:
    rows = db.session.execute(select(CustomDomain).where(CustomDomain.tenant_id == tenant_id)
                              .order_by(CustomDomain.created_at, CustomDomain.domain)).scalars()
    return [DomainEntry(row) for row in rows]


def get_domain(tenant: Tenant, domain_id: uuid.UUID) -> CustomDomain:
    """One of `tenant`'s domains; another tenant's (or no) domain is NotFound."""
    row = db.session.get(CustomDomain, domain_id)
    if row is None or row.tenant_id != tenant.id:
        raise NotFound("That domain is not one of this tenant's.")
    return row


def _taken_message(domain: str, tenant: Tenant) -> str:
    owner = db.session.execute(select(Tenant.slug).join(CustomDomain, CustomDomain.tenant_id == Tenant.id)
                               .where(CustomDomain.domain == domain)).scalar_one_or_none()
    if owner == tenant.slug:
        return f"{domain} is already added to this tenant."
    return f"{domain} is already used by another tenant ({owner})." if owner else f"{domain} is already used."


def add_domain(tenant: Tenant, raw: str, base_domain: str, actor: audit.Actor) -> CustomDomain:
    domain = normalise_domain(raw, base_domain)
    if db.session.execute(select(CustomDomain.id).where(CustomDomain.domain == domain)).first():
        raise _refuse(_taken_message(domain, tenant))
    count = len(db.session.execute(select(CustomDomain.id).where(CustomDomain.tenant_id == tenant.id)
                                   .limit(MAX_PER_TENANT)).all())
    if count >= MAX_PER_TENANT:
        raise _refuse(f"A tenant can have at most {MAX_PER_TENANT} custom domains; remove one first.")
    row = CustomDomain(tenant_id=tenant.id, domain=domain, verification_token=secrets.token_hex(20))
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:  # added for another tenant between the check and the insert
        db.session.rollback()
        raise _refuse(f"{domain} is already used.") from None
    audit.record("domain.add", actor, tenant_id=tenant.id, target_type="custom_domain", target_id=row.id,
                 target_label=domain, after={"domain": domain, "record": challenge_name(domain)})
    return row


def remove_domain(row: CustomDomain, actor: audit.Actor) -> None:
    audit.record("domain.remove", actor, tenant_id=row.tenant_id, target_type="custom_domain",
                 target_id=row.id, target_label=row.domain,
                 before={"domain": row.domain, "verified_at": row.verified_at})
    db.session.delete(row)


def verify_domain(row: CustomDomain, actor: audit.Actor, resolver_address: tuple[str, int] | None,
                  timeout: float) -> None:
    """Mark `row` verified if its TXT record holds the token; otherwise ValidationFailed saying what
    the DNS answered ("TXT record not found", "timed out", a different value...)."""
    if row.verified_at is not None:
        raise ValidationFailed(f"{row.domain} is already verified.")
    name = challenge_name(row.domain)
    found = txt_values(name, resolver_address, timeout)
    if row.verification_token not in found:
        shown = ", ".join(f'"{v[:80]}"' for v in found[:3])
        raise ValidationFailed(f"The TXT record at {name} does not hold this domain's token "
                               f"(found {shown}). Set its value to {row.verification_token}.")
    row.verified_at = utcnow()
    audit.record("domain.verify", actor, tenant_id=row.tenant_id, target_type="custom_domain",
                 target_id=row.id, target_label=row.domain,
                 before={"verified_at": None}, after={"verified_at": row.verified_at})


def txt_values(name: str, resolver_address: tuple[str, int] | None, timeout: float) -> list[str]:
    """The TXT strings at `name`, or ValidationFailed with a message a person can act on."""
    try:
        resolver = dns.resolver.Resolver(configure=resolver_address is None)
    except dns.resolver.NoResolverConfiguration:
        raise ValidationFailed("This server has no DNS resolver configured; set "
                               "TENANTRY_DNS_RESOLVER.") from None
    if resolver_address is not None:
        resolver.nameservers = [resolver_address[0]]
        resolver.port = resolver_address[1]
    resolver.timeout = resolver.lifetime = timeout
    try:
        answer = resolver.resolve(name, "TXT", search=False)
    except dns.resolver.NXDOMAIN:
        raise ValidationFailed(f"TXT record not found: {name} does not exist in DNS yet. Create it; "
                               "changes can take a few minutes to appear.") from None
    except dns.resolver.NoAnswer:
        raise ValidationFailed(f"TXT record not found: {name} exists but has no TXT record.") from None
    except dns.exception.Timeout:
        raise ValidationFailed(f"The DNS lookup of {name} timed out after {timeout:g} seconds; "
                               "try again in a minute.") from None
    except dns.resolver.NoNameservers:
        raise ValidationFailed(f"No DNS server gave an answer for {name} (it failed or refused); "
                               "try again later.") from None
    except (dns.exception.DNSException, OSError) as exc:
        raise ValidationFailed(f"The DNS lookup of {name} failed: {exc}") from None
    return [b"".join(rdata.strings).decode("utf-8", "replace").strip() for rdata in answer]
