"""Bringing a shop's customers in from a spreadsheet: reading, column mapping, a dry run, the bulk apply.

It lives in rewards because an import writes opening balances and tiers (the ledger) as well as
members: the highest app a use case touches owns it.
"""
