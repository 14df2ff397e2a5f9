"""The API for POS systems and online shops (/api/v1/): members, purchases, rewards, redemptions."""
