"""Readers: the account model. Sign-in flows and the account page come with subscriptions."""
