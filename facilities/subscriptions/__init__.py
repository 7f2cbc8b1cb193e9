"""E-mail subscriptions: people (with or without an account) following everything, a
category, a building or one request, by e-mail, at once or in daily or weekly digests."""
