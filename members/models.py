"""The shop's customers: identity, consent, cards, referral codes, enrolment, import and export."""
