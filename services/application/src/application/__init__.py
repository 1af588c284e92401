"""レベル判定代行申請サービス (application).

レベル判定代行申請: drafts, worker lines, submission, status.
"""
