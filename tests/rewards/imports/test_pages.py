"""The import pages: upload, mapping, results, progress, the rows to fix; roles and other shops."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from members.models import Member
from rewards.imports.models import ImportJob, ImportStatus
from tests.factories import StaffFactory

from .conftest import Importer

TEXT = "Name,Phone,Points balance\nSiti Aminah,012-345 6789,120\nBob,not a phone,5\n"


def upload(client, text: str = TEXT, name: str = "customers.csv"):
    return client.post(reverse("rewards:import"), {"file": SimpleUploadedFile(name, text.encode())})


def mapping_post(job: ImportJob, mapping: list[str]) -> dict[str, str]:
    data = {f"col_{i}": target for i, target in enumerate(mapping)}
    data["delimiter"] = job.delimiter
    return data


def test_uploading_opens_the_mapping_with_suggested_columns(manager_client, merchant):
    response = upload(manager_client)
    job = ImportJob.objects.for_merchant(merchant).get()
    page = manager_client.get(response["Location"])
    assert (response.status_code, job.rows_total) == (302, 2)
    assert job.mapping == ["full_name", "phone", "points"]
    assert "Siti Aminah" in page.content.decode()


def test_an_empty_file_is_refused_on_the_upload_page(manager_client, merchant):
    response = upload(manager_client, "")
    assert response.status_code == 200
    assert "The submitted file is empty." in response.content.decode()
    assert not ImportJob.objects.for_merchant(merchant).exists()


def test_checking_shows_the_counts_and_each_invalid_row(manager_client, merchant):
    upload(manager_client)
    job = ImportJob.objects.for_merchant(merchant).get()
    response = manager_client.post(
        reverse("rewards:import_map", args=[job.pk]), mapping_post(job, ["full_name", "phone", "points"]), follow=True
    )
    page = response.content.decode()
    assert "Import the 1 good row" in page
    assert "not a phone" in page
    assert not Member.objects.for_merchant(merchant).exists()


def test_importing_from_the_results_page_writes_the_good_rows(manager_client, merchant):
    upload(manager_client)
    job = ImportJob.objects.for_merchant(merchant).get()
    manager_client.post(reverse("rewards:import_map", args=[job.pk]), mapping_post(job, job.mapping))
    response = manager_client.post(reverse("rewards:import_apply", args=[job.pk]), follow=True)
    job.refresh_from_db()
    assert (job.status, Member.objects.for_merchant(merchant).count()) == (ImportStatus.DONE, 1)
    assert "See the members" in response.content.decode()


def test_a_mapping_without_a_way_to_match_is_refused_on_the_page(manager_client, merchant):
    upload(manager_client)
    job = ImportJob.objects.for_merchant(merchant).get()
    response = manager_client.post(
        reverse("rewards:import_map", args=[job.pk]), mapping_post(job, ["full_name", "", ""])
    )
    assert response.status_code == 400
    assert "phone numbers, emails or card numbers" in response.content.decode()


def test_choosing_another_separator_reads_the_columns_again(manager_client, merchant):
    upload(manager_client, "Name;Phone\nSiti;0123456789\n")
    job = ImportJob.objects.for_merchant(merchant).get()
    job.delimiter = ","
    job.save()
    manager_client.post(reverse("rewards:import_map", args=[job.pk]), {"delimiter": ";", "col_0": ""})
    job.refresh_from_db()
    assert job.headers == ["Name", "Phone"]


def test_the_rows_to_fix_download_as_csv_with_the_reason(importer, manager_client, merchant):
    job = importer.check(TEXT, mapping=["full_name", "phone", "points"])
    response = manager_client.get(reverse("rewards:import_invalid", args=[job.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["Name", "Phone", "Points balance", "What to fix"]
    assert rows[1][:3] == ["Bob", "not a phone", "5"]
    assert "not a phone" in rows[1][3]


def test_progress_reloads_the_page_once_the_job_has_finished(importer, manager_client):
    job = importer.check(TEXT, mapping=["full_name", "phone", "points"])
    response = manager_client.get(reverse("rewards:import_progress", args=[job.pk]), headers={"HX-Request": "true"})
    assert response.headers.get("HX-Refresh") == "true"


def test_progress_shows_how_far_a_running_job_is(importer, manager_client):
    job = importer.upload(TEXT)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.APPLYING, rows_done=1)
    response = manager_client.get(reverse("rewards:import_progress", args=[job.pk]), headers={"HX-Request": "true"})
    assert "1 of 2 rows (50%)" in response.content.decode()


def test_cancelling_deletes_the_file(importer, manager_client):
    job = importer.upload(TEXT)
    manager_client.post(reverse("rewards:import_cancel", args=[job.pk]))
    job.refresh_from_db()
    assert (job.status, bytes(job.data)) == (ImportStatus.CANCELLED, b"")


def test_the_example_file_has_our_column_names(manager_client):
    response = manager_client.get(reverse("rewards:import_template"))
    header = next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert header[:3] == ["First name", "Last name", "Phone"]


def test_a_cashier_cannot_open_the_import_page(cashier_client):
    assert cashier_client.get(reverse("rewards:import")).status_code == 403


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("import_job", "get"),
        ("import_map", "post"),
        ("import_apply", "post"),
        ("import_cancel", "post"),
        ("import_resume", "post"),
        ("import_progress", "get"),
        ("import_invalid", "get"),
    ],
)
def test_another_shops_import_is_not_found(manager_client, other_merchant, name, method):
    theirs = Importer(other_merchant, StaffFactory(merchant=other_merchant, role="owner")).upload("Phone\n0812345678\n")
    response = getattr(manager_client, method)(reverse(f"rewards:{name}", args=[theirs.pk]))
    assert response.status_code == 404


def test_the_list_of_imports_shows_only_this_shops(importer, manager_client, other_merchant):
    importer.upload(TEXT, name="ours.csv")
    Importer(other_merchant, StaffFactory(merchant=other_merchant, role="owner")).upload(
        "Phone\n1\n", name="theirs.csv"
    )
    page = manager_client.get(reverse("rewards:import")).content.decode()
    assert ("ours.csv" in page, "theirs.csv" in page) == (True, False)


def test_the_member_page_shows_what_the_import_brought(importer, manager_client, merchant):
    importer.run(
        "Phone,Tags,Notes,Total spent,Visits\n0123456789,vip,Allergic to nuts,100,4\n",
        mapping=["phone", "tags", "notes", "total_spent", "visits"],
    )
    member = Member.objects.for_merchant(merchant).get()
    page = manager_client.get(reverse("rewards:member", args=[member.pk])).content.decode()
    assert ("vip" in page, "Allergic to nuts" in page, "over 4 visits" in page) == (True, True, True)
