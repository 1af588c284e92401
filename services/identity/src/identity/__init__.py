"""利用者管理サービス (identity): 利用者仮申請, 利用者本申請, login, employer accounts and roles."""
