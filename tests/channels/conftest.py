from __future__ import annotations

import pytest

from facilities.accounts.models import Role
from facilities.channels.channels import ChannelForm, save_channel
from facilities.channels.models import ChannelFormat
from facilities.settings import get_settings
from tests import factories
from tests.channels.receiver import Receiver, serve
from tests.core.test_addresses import no_outside_dns  # noqa: F401  (autouse: no outside DNS)


@pytest.fixture
def receiver(app):
    """A receiver on 127.0.0.1, a network the tests allow (as an operator allows one on
    the premises): channels post to public addresses only."""
    get_settings(app).webhook_allowed_networks = "127.0.0.1/32"
    receiver = Receiver()
    server = serve(receiver)
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def make_channel(db):
    admin = factories.user(db, role=Role.admin, password=None)

    def make(url: str, *, format: ChannelFormat = ChannelFormat.generic, active=True, **wants):
        data = ChannelForm(
            name=f"Channel {next(factories._sequence)}",
            url=url,
            format=format,
            **{"wants_updates": True, "wants_status_changes": True, **wants},
        )
        channel = save_channel(db, actor=admin, data=data)
        channel.active = active
        db.commit()
        return channel

    return make
