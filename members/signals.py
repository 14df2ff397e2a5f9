"""Signals that let higher apps react to members without members importing them.

member_enrolled(sender=Member, member=Member, actor=Actor) is sent inside the enrolment's
transaction, after the member row exists: rewards opens the account and grants the welcome bonus.
"""

from django.dispatch import Signal

member_enrolled = Signal()
