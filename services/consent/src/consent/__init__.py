"""個人情報利用申請サービス (consent).

個人情報利用申請: each worker's consent to the use of his CCUS data.
"""
