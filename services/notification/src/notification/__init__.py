"""通知サービス (notification): Japanese e-mails triggered by events, sent exactly once."""
