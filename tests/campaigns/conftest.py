"""Campaign tests use the points-engine fixtures (a program, members, purchases at the counter)."""

from tests.rewards.conftest import buy, cashier_actor, give, manager_actor, member, program, rules  # noqa: F401
