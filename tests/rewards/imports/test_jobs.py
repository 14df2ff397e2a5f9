"""How an import runs: the check's reading kept for the import, resuming, writers side by side."""

import json
import marshal
import zlib

import pytest
from django.db import OperationalError
from django.db.models import Sum

from members.models import Member, MemberTag, Tag
from members.services import member_enroll
from merchants.actors import Actor
from rewards.imports import jobs
from rewards.imports.jobs import import_apply
from rewards.imports.models import ImportChunk, ImportJob, ImportStatus
from rewards.imports.plan import Directory
from rewards.imports.services import import_apply_start
from rewards.models import Account, PointsEntry
from tests.factories import TierFactory

from .conftest import Importer, messages_of

BASIC = ["first_name", "last_name", "phone", "email", "points"]
HEAD = "First,Last,Phone,Email,Points\n"


def customers(count: int, *, start: int = 0) -> str:
    return HEAD + "".join(f"P{i},,01234{i:05d},,{i + 1}\n" for i in range(start, start + count))


def test_the_check_keeps_its_reading_of_the_file_in_chunks(importer, settings):
    settings.IMPORT_CHUNK_ROWS = 2
    job = importer.check(customers(5), mapping=BASIC)
    assert (bool(job.parsed_with), ImportChunk.objects.filter(job=job).count()) == (True, 3)


def test_the_import_plans_what_the_check_read_without_reading_the_file_again(importer, merchant):
    job = importer.check(customers(3), mapping=BASIC)
    ImportJob.objects.filter(pk=job.pk).update(data=b"\x00 not the file any more")
    job = importer.apply(job)
    assert (job.status, job.new, Member.objects.for_merchant(merchant).count()) == (ImportStatus.DONE, 3, 3)


def test_a_check_kept_in_the_older_json_form_still_imports(importer, merchant, settings):
    """Chunks a check stored as plain JSON, before they were marshalled and compressed, still read."""
    settings.IMPORT_CHUNK_ROWS = 2
    job = importer.check(customers(3), mapping=BASIC)
    for chunk in ImportChunk.objects.filter(job=job):
        rows = marshal.loads(zlib.decompress(bytes(chunk.rows)))  # noqa: S302 - the check's own chunk
        ImportChunk.objects.filter(pk=chunk.pk).update(rows=json.dumps(rows).encode())
    ImportJob.objects.filter(pk=job.pk).update(data=b"\x00 not the file any more")
    job = importer.apply(job)
    assert (job.status, job.new, Member.objects.for_merchant(merchant).count()) == (ImportStatus.DONE, 3, 3)


def test_a_tier_renamed_since_the_check_has_the_file_read_again(importer, merchant):
    gold = TierFactory(merchant=merchant, name="Gold", threshold=100)
    job = importer.check("Phone,Tier\n0123456789,Gold\n", mapping=["phone", "tier"])
    gold.name = "Platinum"
    gold.save()
    job = importer.apply(job)
    assert (job.new, job.invalid) == (0, 1)
    assert "No tier is called “Gold”" in messages_of(job)[2][0]


def test_the_kept_chunks_are_deleted_when_the_import_ends(importer):
    job = importer.run(customers(3), mapping=BASIC)
    assert (job.status, ImportChunk.objects.filter(job=job).exists()) == (ImportStatus.DONE, False)


def test_an_import_cut_off_midway_carries_on_from_the_chunk_it_was_on(importer, merchant, settings, monkeypatch):
    settings.IMPORT_CHUNK_ROWS = 2
    job = importer.check(customers(5), mapping=BASIC)
    write = jobs._write_chunk
    written = []

    def dies_on_the_third_chunk(job, planner, actor, chunk):
        written.append([row.line for row in chunk])
        if len(written) == 3:
            raise OperationalError("the worker lost its database")  # as if the worker died here
        return write(job, planner, actor, chunk)

    monkeypatch.setattr(jobs, "_write_chunk", dies_on_the_third_chunk)
    with pytest.raises(OperationalError):
        import_apply_start(job=job, actor=importer.actor)
    assert ImportJob.objects.get(pk=job.pk).rows_done == 4
    written.clear()
    import_apply(merchant_id=merchant.pk, job_id=job.pk)  # the task's retry
    job.refresh_from_db()
    assert (job.status, written) == (ImportStatus.DONE, [[6]])
    assert Member.objects.for_merchant(merchant).count() == 5
    assert PointsEntry.objects.filter(merchant=merchant).aggregate(s=Sum("points"))["s"] == 15


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # the writers read and write through connections of their own
class TestWritersSideBySide:
    @pytest.fixture(params=[2, 1], ids=["two writers", "one writer"])
    def parallel(self, request, settings, merchant, manager) -> Importer:
        settings.IMPORT_WRITERS, settings.IMPORT_CHUNK_ROWS = request.param, 3
        return Importer(merchant, manager)

    def test_they_import_every_row_once_with_duplicates_refused(self, parallel, merchant):
        text = customers(20) + "Again,,0123400004,,99\n"  # row 22 repeats row 6's customer
        job = parallel.run(text, mapping=BASIC)
        assert (job.status, job.new, job.invalid, job.rows_done) == (ImportStatus.DONE, 20, 1, 21)
        assert list(messages_of(job)) == [22]
        balances = dict(Account.objects.filter(merchant=merchant).values_list("member__first_name", "balance"))
        assert balances == {f"P{i}": i + 1 for i in range(20)}

    def test_new_tags_in_every_chunk_are_made_once_and_put_on_each_member(self, parallel, merchant):
        text = "Phone,Tags\n" + "".join(f'01234{i:05d},"vip, Regular"\n' for i in range(12))
        job = parallel.run(text, mapping=["phone", "tags"])
        assert (job.status, job.new) == (ImportStatus.DONE, 12)
        assert sorted(Tag.objects.for_merchant(merchant).values_list("name", flat=True)) == ["Regular", "vip"]
        assert MemberTag.objects.for_merchant(merchant).count() == 24

    def test_a_customer_enrolled_at_the_counter_meanwhile_is_updated_not_doubled(
        self, parallel, merchant, cashier, monkeypatch
    ):
        job = parallel.check(customers(12), mapping=BASIC)
        read = Directory.__init__

        def then_someone_enrols(directory, shop):
            read(directory, shop)  # the import read the shop's members: this one comes after
            if not Member.objects.for_merchant(shop).exists():
                member_enroll(merchant=shop, actor=Actor.for_staff(cashier), first_name="Walk-in", phone="+60123400010")

        monkeypatch.setattr(Directory, "__init__", then_someone_enrols)
        job = parallel.apply(job)
        walk_in = Member.objects.for_merchant(merchant).get(phone="+60123400010")
        assert (job.status, Member.objects.for_merchant(merchant).count()) == (ImportStatus.DONE, 12)
        assert (walk_in.first_name, Account.objects.get(member=walk_in).balance) == ("P10", 11)
