"""The embedded default's broker: kombu's folder transport, each message whole before
any worker can see it.

kombu creates a message file under its final name and then fills it
(celery/kombu#1551): a worker polling the folder in between takes the empty
file, fails to decode it and exits, and `make run` then stops everything. Here
a message is written under a name the reader skips (kombu takes files whose name
ends in `.<queue>.msg`) and renamed into place, which is atomic within a folder.
"""

import os
import uuid
from time import monotonic

from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

PARTIAL_SUFFIX = ".partial"


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        # kombu's name: milliseconds first, so the reader takes messages in order.
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        path = os.path.join(self.data_folder_out, name)
        with open(path + PARTIAL_SUFFIX, "wb") as partial:
            partial.write(str_to_bytes(dumps(payload)))
        os.replace(path + PARTIAL_SUFFIX, path)


class Transport(filesystem.Transport):
    Channel = Channel
