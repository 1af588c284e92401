"""レベル判定サービス (judgement).

Criteria master, judgement engine, CCUS snapshots, JudgementCompleted.
"""
