"""Operator screens of the referrals app, one module per subject: programme settings with their compliance
warnings, promoters and levels, commissions and rules, bindings, agreements, group buys, the staff share
(brackets, monthly closes, statements, team overrides), and sales leads and teams.

Every write that matters goes through a service (audited there); money rows are read-only here. Edits
of the rules that decide commissions (levels, rules, staff-share brackets, sales teams, group-buy
offers) are audited here. Actions declare `allowed_permissions`: the staff-share month close and the
group-buy sweep move money, so they follow the money rule (`core.roles.is_money_operator`, 财务). Sales
reps see only the bindings of members assigned to them, and their own leads.

Django's admin autodiscovery imports `referrals.admin`; the imports below are what registers each
module's ModelAdmins.
"""

from referrals.admin import (  # noqa: F401 - imported to register their ModelAdmins
    agreements,
    attribution,
    commissions,
    group_buys,
    programme,
    promoters,
    sales,
    staff_share,
)
