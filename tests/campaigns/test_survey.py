"""The one-question survey: the member's signed link and page, one answer per message or per shop day,
the NPS figures, and the dashboard card (managers only, this shop's answers only, CSV tables)."""

import csv
import html
import io
import re
from datetime import timedelta

import pytest
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, CampaignStatus, Message, Segment, SurveyAnswer
from campaigns.survey import (
    SALT,
    answer_save,
    nps,
    survey_link_from_token,
    survey_token,
    survey_url,
)
from members.portal import unsubscribe_token
from members.services import member_erase
from merchants.actors import Actor
from merchants.periods import day_start
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

# Scores of a known mix: 5 promoters, 2 passives, 3 detractors -> (50% - 30%) = NPS 20.
MIX = [9, 10, 9, 10, 9, 7, 8, 0, 3, 6]


def today(merchant):
    return timezone.localdate(timezone=merchant.tzinfo)


def page_url(member, message=None) -> str:
    return reverse("survey:answer", args=[survey_token(member=member, message=message)])


def feedback_message(member) -> Message:
    merchant = member.merchant
    segment, _ = Segment.objects.get_or_create(merchant=merchant, name="Everyone")
    campaign = Campaign.objects.create(
        merchant=merchant, name="How was it?", segment=segment, body="Tell us", status=CampaignStatus.ACTIVE
    )
    return Message.objects.create(
        merchant=merchant, campaign=campaign, member=member, occurrence=today(merchant), channel="email"
    )


def answer(member, score: int, comment: str = "", *, days_ago: int = 0) -> SurveyAnswer:
    """An answer given `days_ago` shop days ago (at local noon, well inside the day)."""
    merchant = member.merchant
    at = day_start(merchant, today(merchant) - timedelta(days=days_ago)) + timedelta(hours=12)
    at = min(at, timezone.now())
    return SurveyAnswer.objects.create(
        merchant=merchant, member=member, score=score, comment=comment, created_at=at, updated_at=at
    )


def kpi_value(text: str, label: str) -> str:
    found = re.search(
        rf'<span class="kpi-label">{re.escape(label)}</span>\s*<strong class="kpi-value">([^<]*)</strong>', text
    )
    assert found, f"no KPI labelled {label!r}"
    return html.unescape(found[1])


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


# ---------------------------------------------------------------------------------------------
# The link


def test_token_round_trip_names_the_member_and_the_message(member):
    message = feedback_message(member)

    link = survey_link_from_token(survey_token(member=member, message=message))

    assert (link.member, link.message) == (member, message)


def test_token_without_a_message_names_the_member_only(member):
    link = survey_link_from_token(survey_token(member=member))

    assert (link.member, link.message) == (member, None)


def test_survey_url_is_absolute_on_the_site(member, settings):
    settings.SITE_URL = "https://loyal.example/"

    url = survey_url(member=member)

    assert url.startswith("https://loyal.example/s/")
    token = url.removeprefix("https://loyal.example/s/").rstrip("/")
    assert survey_link_from_token(token).member == member


@pytest.mark.parametrize(
    "forge",
    [
        lambda member: "not-a-token",
        lambda member: survey_token(member=member)[:-2] + "xx",  # tampered signature
        lambda member: signing.dumps({"member": member.pk + 1, "message": None}, salt="another.salt"),
        lambda member: unsubscribe_token(member),  # another link's token is not a survey link
        lambda member: signing.dumps([member.pk, None], salt=SALT),  # signed, but not our shape
        lambda member: signing.dumps({"member": "1", "message": None}, salt=SALT),
    ],
)
def test_forged_or_tampered_link_is_a_404(client, member, forge):
    response = client.get(reverse("survey:answer", args=[forge(member)]))

    assert response.status_code == 404
    assert "This link no longer works" in response.text


def test_tampered_payload_is_a_404(client, member):
    """Another member's id spliced into a real token's payload breaks the signature."""
    other = MemberFactory(merchant=member.merchant)
    real = survey_token(member=member)
    spliced = signing.dumps({"member": other.pk, "message": None}, salt=SALT).split(":")[0]
    forged = ":".join([spliced, *real.split(":")[1:]])

    assert client.get(reverse("survey:answer", args=[forged])).status_code == 404


def test_link_of_an_erased_member_is_a_404(client, member):
    url = page_url(member)
    member.erased_at = timezone.now()
    member.save()

    assert client.get(url).status_code == 404


def test_link_of_a_deleted_member_is_a_404(client, member):
    url = page_url(member)
    member.delete()

    assert client.get(url).status_code == 404


def test_link_pairing_a_member_with_another_shops_message_is_a_404(client, member, other_merchant):
    theirs = feedback_message(MemberFactory(merchant=other_merchant))

    response = client.post(page_url(member, theirs), {"score": "9"})

    assert response.status_code == 404
    assert not SurveyAnswer.objects.exists()


def test_another_shops_member_answers_for_their_shop_only(client, merchant, other_merchant):
    stranger = MemberFactory(merchant=other_merchant)

    page = client.get(page_url(stranger))
    client.post(page_url(stranger), {"score": "2", "comment": "Slow"})

    assert "Charlie&#x27;s Cafe" in page.text
    assert "Bubbles Laundromat" not in page.text
    assert SurveyAnswer.objects.get().merchant == other_merchant
    assert nps(merchant=merchant, start=today(merchant), end=today(merchant)).answers == 0


# ---------------------------------------------------------------------------------------------
# The page


def test_page_asks_the_question_with_eleven_choices(client, member):
    response = client.get(page_url(member))

    assert response.status_code == 200
    assert "How likely are you to recommend Bubbles Laundromat to a friend?" in response.text
    assert re.findall(r'type="radio" name="score" value="(\d+)"', response.text) == [str(n) for n in range(11)]
    assert "Not likely" in response.text
    assert "Very likely" in response.text
    assert 'name="comment"' in response.text


def test_answer_is_saved_for_the_message_and_thanked(client, member):
    message = feedback_message(member)
    url = page_url(member, message)

    response = client.post(url, {"score": "9", "comment": "  Friendly staff  "}, follow=True)

    saved = SurveyAnswer.objects.get()
    assert (saved.merchant, saved.member, saved.message, saved.campaign) == (
        member.merchant,
        member,
        message,
        message.campaign,
    )
    assert (saved.score, saved.comment) == (9, "Friendly staff")
    assert response.redirect_chain == [(url, 302)]
    assert "Thank you!" in response.text
    assert "You gave Bubbles Laundromat 9 out of 10." in response.text
    assert "Change my answer" in response.text
    assert re.search(r'value="9"[^>]*checked', response.text)  # the form to change it starts from the answer


def test_answering_again_changes_the_answer(client, member):
    message = feedback_message(member)
    client.post(page_url(member, message), {"score": "4", "comment": "Dirty"})
    first = SurveyAnswer.objects.get()

    client.post(page_url(member, message), {"score": "8", "comment": "Better now"})

    again = SurveyAnswer.objects.get()
    assert again.pk == first.pk
    assert (again.score, again.comment) == (8, "Better now")
    assert again.updated_at > first.updated_at
    assert again.created_at == first.created_at


@pytest.mark.parametrize("score", ["11", "-1", "x", ""])
def test_bad_score_is_explained_and_saves_nothing(client, member, score):
    response = client.post(page_url(member), {"score": score, "comment": "Hi"})

    assert response.status_code == 200
    assert "Pick a score from 0 to 10." in response.text
    assert not SurveyAnswer.objects.exists()


def test_bad_score_when_changing_keeps_the_first_answer(client, member):
    message = feedback_message(member)
    client.post(page_url(member, message), {"score": "6"})

    response = client.post(page_url(member, message), {"score": "12"})

    assert "Pick a score from 0 to 10." in response.text
    assert SurveyAnswer.objects.get().score == 6


def test_page_is_in_the_members_language(client, member):
    member.language = "uk"
    member.save()

    response = client.get(page_url(member))

    assert '<html lang="uk"' in response.text
    assert '<option value="uk" lang="uk" selected>' in response.text


def test_page_is_in_the_shops_language_for_a_member_without_one(client, member):
    member.merchant.language = "hu"
    member.merchant.save()

    response = client.get(page_url(member))

    assert '<html lang="hu"' in response.text


# ---------------------------------------------------------------------------------------------
# answer_save


def test_without_a_message_one_answer_per_member_and_shop_day(member):
    merchant = member.merchant
    earlier_today = answer(member, 3)
    SurveyAnswer.objects.filter(pk=earlier_today.pk).update(created_at=day_start(merchant, today(merchant)))

    saved = answer_save(member=member, message=None, score=10, comment="")

    assert saved.pk == earlier_today.pk
    assert SurveyAnswer.objects.get().score == 10


def test_without_a_message_yesterdays_answer_stays_and_today_gets_its_own(member):
    merchant = member.merchant
    # A minute before the shop's midnight: yesterday there, whatever day it is in UTC.
    yesterday = answer(member, 3)
    SurveyAnswer.objects.filter(pk=yesterday.pk).update(
        created_at=day_start(merchant, today(merchant)) - timedelta(minutes=1)
    )

    answer_save(member=member, message=None, score=10, comment="")

    assert sorted(SurveyAnswer.objects.values_list("score", flat=True)) == [3, 10]


@pytest.mark.parametrize("score", [11, -1, "9", None, True, 2.5])
def test_service_refuses_a_score_outside_0_to_10(member, score):
    with pytest.raises(ValidationError):
        answer_save(member=member, message=None, score=score, comment="")
    assert not SurveyAnswer.objects.exists()


def test_service_refuses_a_comment_over_2000_characters(member):
    with pytest.raises(ValidationError):
        answer_save(member=member, message=None, score=5, comment="a" * 2001)
    assert not SurveyAnswer.objects.exists()


def test_service_refuses_another_members_message(member):
    message = feedback_message(MemberFactory(merchant=member.merchant))

    with pytest.raises(PermissionDenied):
        answer_save(member=member, message=message, score=5, comment="")
    assert not SurveyAnswer.objects.exists()


# ---------------------------------------------------------------------------------------------
# nps()


def test_nps_of_a_known_mix(merchant, member):
    for score in MIX:
        answer(MemberFactory(merchant=merchant), score)

    stats = nps(merchant=merchant, start=today(merchant), end=today(merchant))

    assert (stats.answers, stats.promoters, stats.passives, stats.detractors) == (10, 5, 2, 3)
    assert stats.nps == 20
    assert stats.distribution == [1, 0, 0, 1, 0, 0, 1, 1, 1, 3, 2]


def test_nps_without_answers_is_none(merchant):
    stats = nps(merchant=merchant, start=today(merchant), end=today(merchant))

    assert (stats.answers, stats.nps) == (0, None)
    assert stats.distribution == [0] * 11


def test_nps_counts_only_the_window_and_this_shop(merchant, other_merchant, member):
    answer(member, 10, days_ago=0)
    answer(member, 0, days_ago=40)
    answer(MemberFactory(merchant=other_merchant), 0)

    stats = nps(merchant=merchant, start=today(merchant) - timedelta(days=29), end=today(merchant))

    assert (stats.answers, stats.nps) == (1, 100)


def test_nps_lists_the_latest_comments_first_without_empty_ones(merchant, member):
    member.first_name, member.last_name = "Siti", "Aminah"
    member.save()
    answer(member, 4, "Too slow", days_ago=2)
    answer(member, 9, "", days_ago=1)
    answer(member, 10, "Lovely", days_ago=0)

    stats = nps(merchant=merchant, start=today(merchant) - timedelta(days=6), end=today(merchant))

    assert [(c.score, c.member, c.comment, c.day) for c in stats.comments] == [
        (10, "Siti Aminah", "Lovely", today(merchant)),
        (4, "Siti Aminah", "Too slow", today(merchant) - timedelta(days=2)),
    ]


def test_an_erased_members_comment_is_hidden_but_their_score_counts(merchant, member):
    answer(member, 2, "My neighbour Ali saw me there")
    member_erase(member=member, actor=Actor.job("retention"))  # erasure is the owner's or the retention job's

    stats = nps(merchant=merchant, start=today(merchant), end=today(merchant))

    assert (stats.answers, stats.detractors, stats.comments) == (1, 1, [])
    assert SurveyAnswer.objects.get(member=member).comment == ""  # the words themselves are gone


# ---------------------------------------------------------------------------------------------
# The dashboard card


def test_card_shows_nps_groups_and_a_comment_to_a_manager(manager_client, merchant):
    members = [MemberFactory(merchant=merchant) for _ in MIX]
    for who, score in zip(members, MIX, strict=True):
        answer(who, score)
    members[0].first_name, members[0].last_name = "Ahmad", "Razak"
    members[0].save()
    SurveyAnswer.objects.filter(member=members[0]).update(comment="Best laundromat in SS2")

    response = manager_client.get(reverse("campaigns:kpi_nps"))

    assert response.status_code == 200
    assert "<h2>Customer feedback</h2>" in response.text
    assert kpi_value(response.text, "NPS") == "20"
    assert kpi_value(response.text, "Promoters (9–10)") == "5"
    assert kpi_value(response.text, "Passives (7–8)") == "2"
    assert kpi_value(response.text, "Detractors (0–6)") == "3"
    assert "Best laundromat in SS2" in response.text
    assert "Ahmad Razak" in response.text


def test_card_shows_the_change_in_points_from_the_previous_period(manager_client, merchant, member):
    answer(member, 10, days_ago=40)  # previous 30 days: NPS 0 (one promoter, one detractor)
    answer(member, 0, days_ago=41)
    answer(member, 10, days_ago=1)  # this period: NPS 100

    response = manager_client.get(reverse("campaigns:kpi_nps"), {"period": "30"})

    assert kpi_value(response.text, "NPS") == "100"
    assert "up 100 points" in response.text


def test_card_is_refused_to_a_cashier(cashier_client):
    assert cashier_client.get(reverse("campaigns:kpi_nps")).status_code == 403
    assert cashier_client.get(reverse("campaigns:kpi_nps"), {"table": "comments"}).status_code == 403


def test_card_answers_get_only(manager_client):
    assert manager_client.post(reverse("campaigns:kpi_nps")).status_code == 405


def test_card_never_shows_another_shops_answers(manager_client, merchant, other_merchant, member):
    answer(member, 10, "Ours")
    answer(MemberFactory(merchant=other_merchant, first_name="Somchai"), 0, "Theirs: terrible")

    response = manager_client.get(reverse("campaigns:kpi_nps"))
    rows = csv_rows(manager_client.get(reverse("campaigns:kpi_nps"), {"table": "comments"}))

    assert kpi_value(response.text, "NPS") == "100"
    assert "Theirs" not in response.text
    assert "Somchai" not in response.text
    assert [row[3] for row in rows[1:]] == ["Ours"]


def test_card_with_no_answers_ever_says_how_they_arrive(manager_client):
    response = manager_client.get(reverse("campaigns:kpi_nps"))

    assert response.status_code == 200
    assert "<h2>Customer feedback</h2>" in response.text
    assert "feedback campaign" in response.text
    assert "kpi-value" not in response.text


def test_card_with_older_answers_only_shows_an_empty_period(manager_client, member):
    answer(member, 9, days_ago=100)

    response = manager_client.get(reverse("campaigns:kpi_nps"), {"period": "30"})

    assert kpi_value(response.text, "NPS") == "–"
    assert kpi_value(response.text, "Answers") == "0"
    assert "feedback campaign" not in response.text


def test_scores_table_downloads_as_csv(manager_client, merchant, member):
    for score in MIX:
        answer(MemberFactory(merchant=merchant), score)

    response = manager_client.get(reverse("campaigns:kpi_nps"), {"table": "scores"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    filename = f"nps-scores-{merchant.slug}-{today(merchant).isoformat()}.csv"
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    rows = csv_rows(response)
    assert rows[0] == ["Score", "This period", "Previous period"]
    assert [row[1] for row in rows[1:]] == ["1", "0", "0", "1", "0", "0", "1", "1", "1", "3", "2"]


def test_comments_table_downloads_with_formulas_neutralised(manager_client, merchant, member):
    member.first_name, member.last_name = "Mei", "Ling"
    member.save()
    answer(member, 2, "=HYPERLINK(1)")

    rows = csv_rows(manager_client.get(reverse("campaigns:kpi_nps"), {"table": "comments"}))

    assert rows == [
        ["Date", "Score", "Member", "Comment"],
        [today(merchant).isoformat(), "2", "Mei Ling", "'=HYPERLINK(1)"],
    ]


def test_unknown_table_is_a_404(manager_client):
    assert manager_client.get(reverse("campaigns:kpi_nps"), {"table": "members"}).status_code == 404


def test_home_loads_the_nps_card_for_a_manager(manager_client):
    response = manager_client.get(reverse("merchants:home"))

    assert f'hx-get="{reverse("campaigns:kpi_nps")}?' in response.text
