"""The points economy: program rules, tiers, accounts and the ledger, rewards and redemptions."""
