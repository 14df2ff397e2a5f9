"""Signals that let higher apps react to members without members importing them.

member_enrolled(sender=Member, member=Member, actor=Actor) is sent inside the enrolment's
transaction, after the member row exists: rewards opens the account and grants the welcome bonus.
"""

from django.dispatch import Signal

member_enrolled = Signal()

# member_erased(sender=Member, member=Member, actor=Actor) is sent after a member's personal data
# was removed, inside that transaction: higher apps drop what they hold about the person.
member_erased = Signal()

# member_data_requested(sender=Member, member=Member) is sent to build a member's data export
# (members.privacy): each receiver returns {section name: a record (dict) or rows (an iterable of
# dicts, read lazily)} for what its app holds about the member, scoped to the member's shop.
member_data_requested = Signal()
