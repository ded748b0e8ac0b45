"""/api/v1 views of the referrals app, one module per subject: the referral center and group buys."""
