"""帳票サービス (document): 結果通知書 and consent-form PDFs, stored in GridFS."""
