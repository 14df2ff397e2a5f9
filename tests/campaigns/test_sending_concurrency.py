"""Two workers sending the same campaign at once (a duplicated or retried task): each member gets it once."""

import pytest
from django.core import mail

from campaigns import sending
from campaigns.models import Campaign, CampaignStatus, Channel, Message, MessageStatus, Segment
from tests.factories import MemberFactory, MerchantFactory
from tests.rewards.test_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_four_workers_on_one_campaign_send_each_message_once():
    shop = MerchantFactory()
    segment = Segment.objects.create(merchant=shop, name="Everyone", rules={})
    for i in range(600):
        MemberFactory(merchant=shop, email=f"m{i}@example.com", email_consent=True)
    campaign = Campaign.objects.create(
        merchant=shop, name="Race", segment=segment, channel=Channel.EMAIL, subject="Hi", body="Hello",
        holdout_percent=10, status=CampaignStatus.SENDING,
    )  # fmt: skip
    race(lambda i: sending.audience_write(campaign=campaign), n=4)  # written four times: once
    race(lambda i: sending.campaign_send(campaign_id=campaign.pk), n=4)
    messages = Message.objects.filter(campaign=campaign)
    sent = messages.filter(status=MessageStatus.SENT).count()
    assert messages.count() == 600
    assert sent == 600 - messages.filter(status=MessageStatus.HELD_OUT).count()
    assert len({m.to[0] for m in mail.outbox}) == len(mail.outbox)  # nobody twice
    assert len(mail.outbox) == sent
