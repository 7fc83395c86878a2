"""Annuaire Santé tables: professionals' activities and MSSanté addresses.

Rows are never deleted: an import marks what it did not see as inactive, so a
decision taken yesterday can still be explained today.

Key of ``professional`` (its primary key): one row per *activity*, i.e. (national PP
id, structure technical id, profession code, savoir-faire code). The extract has one line per
activity; a professional with two practices has two rows. Key parts are stored
as ``''`` when absent (NULLs would defeat the unique index). ``mssante_address``
is keyed by the lower-cased address.

Change tracking without a second pass: ``batch_id`` is the last import
(``directory_import.id``) that saw the row, ``changed_batch_id`` the last that
changed, reactivated or deactivated it, ``created_batch_id`` the one that inserted
it. The import compares the columns themselves in SQL to tell "unchanged".
The batch columns carry no foreign key: checking it on two million rows costs
about a tenth of the import time, and only the importer writes them.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from gateway.storage.models import utcnow

__all__ = ["DirectoryImport", "MssanteAddress", "Professional"]


class DirectoryImport(SQLModel, table=True):
    """One run of ``aiguilleur directory import`` over one file; its id is the batch id."""

    __tablename__ = "directory_import"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)  # gateway.directory.extract.FileKind
    file_name: str = Field(max_length=255)
    encoding: str = Field(max_length=16)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    lines: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    deactivated: int = 0
    rejected: int = 0


class Professional(SQLModel, table=True):
    __tablename__ = "professional"
    # On SQLite the table is clustered on its key: no second B-tree to maintain on import.
    __table_args__ = ({"sqlite_with_rowid": False},)

    # "8" + RPPS or "0" + ADELI, e.g. 810001045367
    national_id: str = Field(primary_key=True, max_length=20)
    # Identifiant technique de la structure
    structure_id: str = Field(default="", primary_key=True, max_length=40)
    profession_code: str = Field(default="", primary_key=True, max_length=8)  # TRE_G15
    savoir_faire_code: str = Field(default="", primary_key=True, max_length=16)  # TRE_R38, SMxx
    id_type: str = Field(max_length=2)  # 8 RPPS, 0 ADELI
    # The RPPS or ADELI number itself; look rows up by national_id ("8" + RPPS), which
    # leads the primary key.
    pp_id: str = Field(max_length=20)
    civility: str | None = Field(default=None, max_length=40)
    family_name: str | None = Field(default=None, max_length=120)
    given_name: str | None = Field(default=None, max_length=120)
    profession_label: str | None = Field(default=None, max_length=120)
    savoir_faire_label: str | None = Field(default=None, max_length=160)
    practice_mode_code: str | None = Field(default=None, max_length=8)
    practice_mode_label: str | None = Field(default=None, max_length=120)
    structure_name: str | None = Field(default=None, max_length=255)
    postal_code: str | None = Field(default=None, max_length=10)
    commune_code: str | None = Field(default=None, max_length=10)  # INSEE
    commune_label: str | None = Field(default=None, max_length=120)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=320)
    active: bool = True
    batch_id: int
    changed_batch_id: int
    created_batch_id: int
    updated_at: datetime = Field(default_factory=utcnow)


class MssanteAddress(SQLModel, table=True):
    __tablename__ = "mssante_address"
    __table_args__ = ({"sqlite_with_rowid": False},)

    address: str = Field(primary_key=True, max_length=320)  # lower-cased
    bal_type: str = Field(max_length=8)  # PER, ORG (APP seen too)
    national_id: str | None = Field(default=None, max_length=20, index=True)
    profession_code: str | None = Field(default=None, max_length=8)
    profession_label: str | None = Field(default=None, max_length=120)
    savoir_faire_code: str | None = Field(default=None, max_length=16)
    savoir_faire_label: str | None = Field(default=None, max_length=160)
    structure_name: str | None = Field(default=None, max_length=255)
    postal_code: str | None = Field(default=None, max_length=10)
    active: bool = True
    batch_id: int
    changed_batch_id: int
    created_batch_id: int
    updated_at: datetime = Field(default_factory=utcnow)
