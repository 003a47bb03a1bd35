"""The platform's own tools: the ``vmre`` command line, the supervisor of ``vmre run`` (every service, the
local broker and the local mailbox on one machine) and the local mailbox. They use ``shared/`` and start
``services/``; neither of those imports them."""
