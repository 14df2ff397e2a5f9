"""Helpers for import tests: upload a text as a file, check it, import it."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from merchants.actors import Actor
from rewards.imports.models import ImportJob
from rewards.imports.services import import_apply_start, import_check_start, import_upload
from rewards.ledger import program_for


class Importer:
    def __init__(self, merchant, staff) -> None:
        self.merchant = merchant
        self.actor = Actor.for_staff(staff)
        program_for(merchant)

    def upload(self, content: str | bytes, name: str = "customers.csv") -> ImportJob:
        data = content.encode() if isinstance(content, str) else content
        return import_upload(merchant=self.merchant, actor=self.actor, upload=SimpleUploadedFile(name, data))

    def check(
        self, content: str | bytes, *, mapping: list[str] | None = None, name: str = "customers.csv"
    ) -> ImportJob:
        job = self.upload(content, name)
        return import_check_start(job=job, mapping=mapping or job.mapping, actor=self.actor)

    def apply(self, job: ImportJob) -> ImportJob:
        import_apply_start(job=job, actor=self.actor)
        job.refresh_from_db()
        return job

    def run(self, content: str | bytes, **kwargs) -> ImportJob:
        return self.apply(self.check(content, **kwargs))


@pytest.fixture
def importer(merchant, manager) -> Importer:
    return Importer(merchant, manager)


def messages_of(job: ImportJob) -> dict[int, list[str]]:
    return {row.line: row.messages for row in job.invalid_rows.all()}
