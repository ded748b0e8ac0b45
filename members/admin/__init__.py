"""Operator screens for members: users, tiers, memberships (grant/extend with a reason), onboarding
(funnel, stuck list, reassign reps), service groups, notifications, points and the points mall.

Personal data is shown masked (phones; a full phone number typed into search finds the member through
its keyed hash). Every write that matters goes through a service (audited there); tier and reward
edits are audited here. Sales and customer-service staff see only the members assigned to them
(`members.onboarding.selectors.rep_scoped`); only operators grant, revoke, reassign and adjust points (each
action declares `allowed_permissions`, so nobody else sees it); only superusers change staff accounts,
groups, permissions and passwords.

One module per subject (users, memberships, onboarding, notifications, points); they are imported
here only for their `admin.register` side effects, because Django's autodiscovery imports
`members.admin`. Nothing is re-exported: import admin classes from their modules.
"""

from members.admin import memberships, notifications, onboarding, points, users  # noqa: F401
