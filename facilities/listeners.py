"""Every domain's listeners to published request updates, in one list (as schedule.py
lists every domain's jobs): handed to the app by create_app."""

from __future__ import annotations

from facilities.channels.posts import post_to_channels
from facilities.requests.events import Listener
from facilities.subscriptions.delivery import mail_subscribers

# Subscriptions (e-mail to followers without an account) and channels (webhooks) add
# theirs here.
LISTENERS: tuple[Listener, ...] = (post_to_channels, mail_subscribers)
