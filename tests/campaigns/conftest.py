"""Campaign tests use the points-engine fixtures (a program, members, purchases at the counter)."""

from tests.rewards.conftest import buy, cashier_actor, manager_actor, member, program  # noqa: F401
