"""Pluggable domain models: geography, demand, choice, referral, reimbursement, costs."""
