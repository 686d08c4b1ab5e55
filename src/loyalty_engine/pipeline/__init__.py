"""The stages of a calculation: discount → redeem → accrue → code_issue → message."""
