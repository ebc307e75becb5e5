"""The double-entry ledger (D18-D20): accounts (`accounts`), journal entries and their hash chain
(`journal`, `hashchain`), the movements every caller shares (`movements`), held amounts by
reference (`held`), maturing deferred credits (`maturity`) and `accrual verify` (`verify`)."""
